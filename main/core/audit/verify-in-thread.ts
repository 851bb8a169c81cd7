// verifyAudit in a thread of its own (read-thread.ts): the service's audit verification and the check before an
// export walk the whole log, about 7–11 s per million entries.
import { inReadThread, readThreadsRunning } from '../read-thread.js';
import type { AuditVerification, VerifyAuditOptions } from './verify.js';

/** How many verification (and other read) threads run now (for tests). */
export const verificationsRunning = readThreadsRunning;

export function verifyAuditInThread(
  dataDir: string,
  publicKeyPem: string,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  return inReadThread<AuditVerification>({
    callerUrl: import.meta.url,
    name: 'verify-thread',
    workerData: { dataDir, publicKeyPem, options },
    what: 'audit verification',
    busy: 'the audit log is being verified for other requests (exports, the audit page); retry shortly',
  });
}
