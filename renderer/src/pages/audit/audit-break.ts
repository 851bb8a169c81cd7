// The first break of a broken audit chain in the user's language, from its kind: the verifier's sentence is English
// (for the CLI and logs), and is kept as the technical detail.
import { AUDIT_BREAK_KINDS, type AuditVerifyView } from '../../../../shared/contract.js';
import type { T } from '../../i18n/i18n.js';

type Break = NonNullable<AuditVerifyView['break']>;

/** What broke, worded from the kind; the verifier's own words for a kind this UI does not know (a newer server's). */
export function auditBreakText(b: Break, t: T): string {
  const known = (AUDIT_BREAK_KINDS as readonly string[]).includes(b.kind);
  const what = known ? t(`audit.break.${b.kind}`, { seq: b.seq, prev: b.seq - 1 }) : b.message;
  return t('audit.verify.break', { what });
}
