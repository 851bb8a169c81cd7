// A thread that verifies the audit log on its own read connection (see verify-in-thread.ts), so that walking a
// large log does not hold up the thread answering callers. The whole log's checkpoint signatures are checked in
// this thread's share of libuv's pool (verifyAuditAsync), the connection being this thread's alone.
import { workerData } from 'node:worker_threads';
import { openReadable } from '../db/open.js';
import { answerFromThread, postProgress } from '../read-thread.js';
import { exportRange } from './export.js';
import type { ExportWindow } from './verify-in-thread.js';
import {
  verifyAuditAsync,
  verifyAuditRange,
  type AuditVerification,
  type VerifyAuditOptions,
} from './verify.js';

const { dataDir, publicKeyPem, exportWindow, ...sent } = workerData as {
  dataDir: string;
  publicKeyPem: string;
  options: VerifyAuditOptions;
  exportWindow: ExportWindow;
};
// Every report is posted (one per 4,096 entries); a caller without an onProgress drops them (inReadThread).
const options: VerifyAuditOptions = { ...sent.options, onProgress: (p) => postProgress(p) };

async function verifyHere(): Promise<AuditVerification> {
  const db = openReadable(dataDir);
  try {
    if (!exportWindow.since && !exportWindow.until) return await verifyAuditAsync(db, publicKeyPem, options);
    const checked = verifyAuditRange(db, publicKeyPem, exportRange(db, exportWindow), options);
    // Only `ok`, `break` and `otherKeyIds` mean anything for a range: the counts are left at nothing.
    return {
      ok: checked.ok,
      entries: 0,
      head: null,
      checkpoints: 0,
      lastCheckpoint: null,
      unsigned: 0,
      ...(checked.otherKeyIds ? { otherKeyIds: checked.otherKeyIds } : {}),
      ...(checked.break ? { break: checked.break } : {}),
    };
  } finally {
    db.close();
  }
}

// answerFromThread takes the work's result (or what it threw) as it posts it back.
const outcome = await verifyHere().then(
  (result) => ({ result }),
  (error: unknown) => ({ error }),
);
answerFromThread(() => {
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
});
