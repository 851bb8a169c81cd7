// A thread that reads and thins a monitoring series on its own read connection (see series-in-thread.ts).
import { workerData } from 'node:worker_threads';
import { openReadable } from '../db/open.js';
import { answerFromThread } from '../read-thread.js';
import { sampledSeries, type SampledRange } from './store.js';

const { dataDir, range } = workerData as { dataDir: string; range: SampledRange };
answerFromThread(() => {
  const db = openReadable(dataDir);
  try {
    return sampledSeries(db, range);
  } finally {
    db.close();
  }
});
