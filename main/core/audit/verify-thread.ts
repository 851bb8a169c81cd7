// A thread that verifies the audit log on its own read connection (see verify-in-thread.ts), so that walking a
// large log does not hold up the thread answering callers.
import { parentPort, workerData } from 'node:worker_threads';
import { openReadable } from '../db/open.js';
import { verifyAudit, type VerifyAuditOptions } from './verify.js';

const { dataDir, publicKeyPem, options } = workerData as {
  dataDir: string;
  publicKeyPem: string;
  options: VerifyAuditOptions;
};
try {
  const db = openReadable(dataDir);
  try {
    parentPort!.postMessage({ ok: true, result: verifyAudit(db, publicKeyPem, options) });
  } finally {
    db.close();
  }
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
