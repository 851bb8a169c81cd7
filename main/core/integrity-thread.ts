// A thread that runs the database's integrity check on its own read connection (see integrity-in-thread.ts).
import { workerData } from 'node:worker_threads';
import { integrityProblems, openReadable } from './db/open.js';
import { answerFromThread } from './read-thread.js';

const { dataDir } = workerData as { dataDir: string };
answerFromThread(() => {
  const db = openReadable(dataDir);
  try {
    return integrityProblems(db);
  } finally {
    db.close();
  }
});
