// verifyAudit in a thread of its own: the service's audit verification and the check before an export walk the
// whole log (about 7–11 s per million entries), which on the service's thread would stall every request.
// At most MAX_RUNNING such threads run at once, and at most MAX_WAITING calls wait for one: each thread holds the
// log's pages and its own V8 heap, and a client asking for export after export (or a page that could, before the
// server refused other sites' requests) must not grow the process by a thread per request.
import { BusyError } from '../microbatch.js';
import { startThread } from '../threads.js';
import type { AuditVerification, VerifyAuditOptions } from './verify.js';

const MAX_RUNNING = 2;
const MAX_WAITING = 16;
/** Seconds a refused caller is told to wait: the queue's verifications, at a second or so each. */
const RETRY_AFTER_S = 5;

let running = 0;
const waiting: (() => void)[] = [];

/** How many verification threads run now (for tests). */
export function verificationsRunning(): number {
  return running;
}

async function acquire(): Promise<void> {
  if (running < MAX_RUNNING) {
    running++;
    return;
  }
  if (waiting.length >= MAX_WAITING) {
    throw new BusyError(
      RETRY_AFTER_S,
      'the audit log is being verified for other requests (exports, the audit page); retry shortly',
    );
  }
  await new Promise<void>((resume) => waiting.push(resume)); // the slot is handed over by release()
}

function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

export async function verifyAuditInThread(
  dataDir: string,
  publicKeyPem: string,
  options: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  await acquire();
  try {
    return await verifyInThread(dataDir, publicKeyPem, options);
  } finally {
    release();
  }
}

function verifyInThread(
  dataDir: string,
  publicKeyPem: string,
  options: VerifyAuditOptions,
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
