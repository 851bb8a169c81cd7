// A thread that verifies the audit log on its own read connection (see verify-in-thread.ts), so that walking a
// large log does not hold up the thread answering callers.
import { workerData } from 'node:worker_threads';
import { openReadable } from '../db/open.js';
import { answerFromThread } from '../read-thread.js';
import { verifyAudit, type VerifyAuditOptions } from './verify.js';

const { dataDir, publicKeyPem, options } = workerData as {
  dataDir: string;
  publicKeyPem: string;
  options: VerifyAuditOptions;
};
answerFromThread(() => {
  const db = openReadable(dataDir);
  try {
    return verifyAudit(db, publicKeyPem, options);
  } finally {
    db.close();
  }
});
