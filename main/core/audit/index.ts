// The audit log: a hash-chained, append-only record of every decision and model change, with signed
// checkpoints, verification and exports head office can check offline. See docs/audit.md.
export { appendEntries, type AppendContext, type AuditReceipt } from './append.js';
export {
  auditPublicKey,
  checkpointIfDue,
  DEFAULT_CHECKPOINT_POLICY,
  latestCheckpoint,
  listCheckpoints,
  writeCheckpoint,
  type AuditCheckpoint,
  type ExportCheckpoint,
  type CheckpointPolicy,
} from './checkpoint.js';
export {
  AUDIT_KINDS,
  AuditEntryError,
  GENESIS_HASH,
  inputHash,
  type AuditEntryInput,
  type AuditKind,
  type AuditRecord,
  type MaskedAttribution,
} from './entry.js';
export { explainEntry } from './explain-entry.js';
export { continuityNeeds, exportContinuity, type ExportContinuity } from './export-continuity.js';
export {
  AuditBrokenError,
  EXPORT_OTHER_KEYS,
  exportAudit,
  type AuditExportOptions,
  type AuditExportSummary,
  type MisplacedStamps,
} from './export.js';
export {
  EXPORT_FORMATS,
  ES_CHECKPOINT_INDEX,
  ES_ENTRY_INDEX,
  type AuditExportFormat,
} from './export-format.js';
export { AuditLog, type AuditAppender, type AuditLogOptions, type AuditSettled } from './log.js';
export { verifyAudit, type AuditBreak, type AuditBreakKind, type AuditVerification } from './verify.js';
export {
  ExportTooLargeError,
  verifyExport,
  verifyExportStream,
  type ExportBreak,
  type ExportBreakKind,
  type ExportVerification,
  type VerifyExportOptions,
} from './verify-export.js';
