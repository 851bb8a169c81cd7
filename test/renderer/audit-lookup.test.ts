// The Audit page's lookup of one decision, before anything is asked: a document id as typed off a printout or the
// result (whole or its first 8 hex digits) and an entry's seq go into the query; a typing slip is a problem named
// by field, worded in both languages; an empty lookup says whether the other filters narrowed it.
import { describe, expect, it } from 'vitest';
import {
  auditQuery,
  documentsIn,
  isLookup,
  lookupProblems,
  NO_FILTERS,
  otherFiltersSet,
} from '../../renderer/src/pages/audit/audit-query.js';
import { API_REQUESTS } from '../../shared/contract.js';
import { MESSAGES } from '../../shared/i18n/index.js';

const DOC = '3f2a1b9c-0d4e-4f1a-9b2c-5d6e7f8a9b0c';

describe('the audit lookup as a query', () => {
  it('asks for the document id as typed, which the contract takes', () => {
    const q = auditQuery({ ...NO_FILTERS, documentId: ' 3F2A1B9C ' }, 50);
    expect(q).toEqual({ limit: 50, document_id: '3F2A1B9C' });
    expect(API_REQUESTS.auditPage.parse(q)).toEqual({ limit: 50, document_id: '3f2a1b9c' });
    expect(auditQuery({ ...NO_FILTERS, documentId: DOC }, 50)).toEqual({ limit: 50, document_id: DOC });
  });

  it('asks for a seq as a number, alongside the other filters and the page', () => {
    expect(auditQuery({ ...NO_FILTERS, seq: ' 42 ', kind: 'explain' }, 50, 120)).toEqual({
      limit: 50,
      seq: 42,
      kind: 'explain',
      before_seq: 120,
    });
  });

  it('leaves both out when empty', () => {
    expect(auditQuery(NO_FILTERS, 50)).toEqual({ limit: 50 });
    expect(isLookup(NO_FILTERS)).toBe(false);
    expect(isLookup({ documentId: '', seq: '7' })).toBe(true);
  });
});

describe('a lookup typed wrong', () => {
  it.each([
    [{ documentId: '3f2a1b9' }, { documentId: 'too_short' }],
    [{ documentId: '3f2a1b9g' }, { documentId: 'not_hex' }],
    [{ documentId: 'a'.repeat(33) }, { documentId: 'too_long' }],
    [{ seq: '-3' }, { seq: 'not_whole' }],
    [{ seq: '0' }, { seq: 'not_whole' }],
    [{ seq: '4.5' }, { seq: 'not_whole' }],
    [{ seq: 'abc' }, { seq: 'not_whole' }],
    [
      { documentId: 'xyz', seq: '-1' },
      { documentId: 'not_hex', seq: 'not_whole' },
    ],
    [{ documentId: ' 3F2A1B9C ', seq: ' 12 ' }, {}],
    [{ documentId: '   ', seq: '' }, {}],
  ])('%j has problems %j', (typed, problems) => {
    expect(lookupProblems({ ...NO_FILTERS, ...typed })).toEqual(problems);
  });

  it('is worded in both languages', () => {
    for (const messages of Object.values(MESSAGES)) {
      for (const key of [
        'audit.filter.documentNotHex',
        'audit.filter.documentTooShort',
        'audit.filter.documentTooLong',
        'audit.filter.seqInvalid',
        'audit.emptyLookup',
        'audit.emptyLookupFiltered',
      ] as const)
        expect(messages[key]).toMatch(/\S/);
    }
  });
});

describe('what a lookup found', () => {
  it('counts the different documents a prefix matched', () => {
    const e = (document_id: string | null) => ({ document_id });
    expect(documentsIn([e(DOC), e(DOC), e(null)])).toBe(1);
    expect(documentsIn([e(DOC), e('3f2a1b9c-ffff-4aaa-8bbb-0123456789ab')])).toBe(2);
  });

  it('tells whether other filters narrowed it', () => {
    expect(otherFiltersSet({ ...NO_FILTERS, documentId: DOC })).toBe(false);
    expect(otherFiltersSet({ ...NO_FILTERS, documentId: DOC, from: '2026-11-28' })).toBe(true);
  });
});
