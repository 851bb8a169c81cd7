import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { explainEntry, prepareExplainEntry } from '../../../../main/core/audit/explain-entry.js';
import { AuditEntryError, prepareEntry } from '../../../../main/core/audit/entry.js';
import { keyId } from '../../../../main/core/keys.js';
import { fixPrecision, signDocument } from '../../../../main/core/records/watermark.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import { sampleDocument } from '../cache/sample-document.js';

const key = () => {
  const k = randomBytes(32);
  return { key: k, id: keyId(k) };
};

/** A document as an engine signs it: numbers fixed, members sorted, then signed. */
function signed(doc: ExplanationDocument): ExplanationDocument {
  const { _meta: _old, ...rest } = doc;
  return signDocument(fixPrecision(rest), key());
}

describe('prepareExplainEntry', () => {
  const at = new Date('2026-11-26T08:00:00.123Z');
  const hash = 'c'.repeat(64);

  it('lays out exactly what prepareEntry(explainEntry(…)) does, with and without a decision', () => {
    const { decision: _d, ...undecided } = sampleDocument(2);
    const awkward = sampleDocument(3);
    awkward.attributions[0]!.feature = 'Ünïcode "quoted" \\ feature\u0001';
    for (const doc of [sampleDocument(1), undecided as ExplanationDocument, awkward].map(signed)) {
      expect(prepareExplainEntry(doc, hash, at).stored).toEqual(
        prepareEntry(explainEntry(doc, hash), at).stored,
      );
    }
  });

  it('refuses what prepareEntry refuses: a bad input hash or watermark, a lone surrogate', () => {
    const doc = signed(sampleDocument(1));
    expect(() => prepareExplainEntry(doc, 'not-hex', at)).toThrow(AuditEntryError);
    expect(() => prepareExplainEntry({ ...doc, _meta: { ...doc._meta, watermark: 'x' } }, hash, at)).toThrow(
      /watermark/,
    );
    expect(() => prepareExplainEntry({ ...doc, id: 'bad\ud800' }, hash, at)).toThrow(/lone surrogate/);
  });
});
