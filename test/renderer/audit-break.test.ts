// A broken audit chain's first break, worded from its kind in the user's language.
import { describe, expect, it } from 'vitest';
import { AUDIT_BREAK_KINDS } from '../../shared/contract.js';
import { auditBreakText } from '../../renderer/src/pages/audit/audit-break.js';
import { makeT } from '../../renderer/src/i18n/i18n.js';

const zh = makeT('zh-CN');
const en = makeT('en');
const message = 'entry 42 was edited: its content does not match its hash';

describe('the first break of a broken audit chain', () => {
  it.each(AUDIT_BREAK_KINDS)('words %s in Chinese and English, naming the entry', (kind) => {
    const b = { seq: 42, kind, message };
    const zhText = auditBreakText(b, zh);
    expect(zhText).toMatch(/^第一个断点：/);
    expect(zhText).toContain('42');
    // No English from the verifier, and no placeholder left unfilled.
    expect(zhText).not.toMatch(/[A-Za-z{}]/);
    const enText = auditBreakText(b, en);
    expect(enText).toMatch(/^First break: /);
    expect(enText).toContain('42');
    expect(enText).not.toMatch(/[{}]/);
    expect(enText).not.toBe(`First break: ${message}`);
  });

  it('names the entry before a broken link', () => {
    expect(auditBreakText({ seq: 7, kind: 'broken_link', message }, zh)).toContain('第 6 条');
    expect(auditBreakText({ seq: 7, kind: 'broken_link', message }, en)).toContain('entry 6');
  });

  it("keeps the verifier's words for a kind this UI does not know (a newer server's)", () => {
    const b = {
      seq: 3,
      kind: 'rewound' as (typeof AUDIT_BREAK_KINDS)[number],
      message: 'entry 3 was rewound',
    };
    expect(auditBreakText(b, zh)).toBe('第一个断点：entry 3 was rewound');
    expect(auditBreakText(b, en)).toBe('First break: entry 3 was rewound');
  });
});
