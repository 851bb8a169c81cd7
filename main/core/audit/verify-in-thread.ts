// verifyAudit in a thread of its own (read-thread.ts): the service's audit verification and the check before an
// export. The whole log takes some 9–13 s per million entries on two cores (docs/audit.md, section 7); an export's
// range is checked without walking the whole log (verifyAuditRange), in milliseconds for a day.
import { inReadThread, readThreadsRunning } from '../read-thread.js';
import type { AuditProgress, AuditVerification, VerifyAuditOptions } from './verify.js';

/** How many verification (and other read) threads run now (for tests). */
export const verificationsRunning = readThreadsRunning;

/** The range an export will hold (its since/until): only it, and the run after the last checkpoint, are checked. */
export interface ExportWindow {
  since?: Date;
  until?: Date;
}

/**
 * The whole log verified (verifyAuditAsync), or, with `exportWindow` naming a since or an until, the check an
 * export of that range runs (checkBeforeExport), whose `break` and `otherKeyIds` are all it returns.
 * `options.onProgress` is called here with the thread's reports (a function does not cross to it: the thread
 * posts each report, every 4,096 entries walked).
 */
export function verifyAuditInThread(
  dataDir: string,
  publicKeyPem: string,
  options: VerifyAuditOptions = {},
  exportWindow: ExportWindow = {},
): Promise<AuditVerification> {
  const { onProgress, ...sendable } = options;
  return inReadThread<AuditVerification>({
    callerUrl: import.meta.url,
    name: 'verify-thread',
    workerData: { dataDir, publicKeyPem, options: sendable, exportWindow },
    ...(onProgress ? { onProgress: (p: unknown) => onProgress(p as AuditProgress) } : {}),
    what: 'audit verification',
    busy: 'the audit log is being verified for other requests (exports, the audit page); retry shortly',
  });
}
