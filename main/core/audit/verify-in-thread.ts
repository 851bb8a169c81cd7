// verifyAudit in a thread of its own: the service's audit verification and the check before an export walk the
// whole log (about 7–11 s per million entries), which on the service's thread would stall every request.
import { startThread } from '../threads.js';
import type { AuditVerification, VerifyAuditOptions } from './verify.js';

export function verifyAuditInThread(
  dataDir: string,
  publicKeyPem: string,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  const worker = startThread(import.meta.url, 'verify-thread', {
    workerData: { dataDir, publicKeyPem, options },
  });
  return new Promise<AuditVerification>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`audit verification stopped (exit ${code})`)));
    worker.once('message', (m: { ok: true; result: AuditVerification } | { ok: false; message: string }) => {
      if (m.ok) resolve(m.result);
      else reject(new Error(`audit verification failed: ${m.message}`));
    });
  }).finally(() => void worker.terminate());
}
