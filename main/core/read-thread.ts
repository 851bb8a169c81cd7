// Work that reads the whole database in a thread of its own, on its own read connection: audit verification
// (about 8.5 s for a million entries logged at a branch's pace, with 84,000 checkpoints, on the 2-core VM,
// 2026-11-28; docs/audit.md, section 7) and a long monitoring series (a year of snapshots, ~0.4 s), which on the
// service's thread would stall every request for that long.
// At most MAX_RUNNING such threads run at once, and at most MAX_WAITING calls wait for one: each thread holds
// the database's pages and its own V8 heap, and a client asking again and again (or a page that could, before the
// server refused other sites' requests) must not grow the process by a thread per request.
import { parentPort } from 'node:worker_threads';
import { errorOf, withStorageFacts, type WriterError } from './db/writer-messages.js';
import { BusyError } from './microbatch.js';
import { startThread } from './threads.js';

const MAX_RUNNING = 2;
const MAX_WAITING = 16;
/** Seconds a refused caller is told to wait: the queue's work, at a second or so each. */
const RETRY_AFTER_S = 5;

let running = 0;
const waiting: (() => void)[] = [];

/** How many read threads run now (for tests). */
export function readThreadsRunning(): number {
  return running;
}

/** A slot to run a thread in, or a BusyError saying `busy` when too many calls wait already. */
async function acquire(busy: string): Promise<void> {
  if (running < MAX_RUNNING) {
    running++;
    return;
  }
  if (waiting.length >= MAX_WAITING) throw new BusyError(RETRY_AFTER_S, busy);
  await new Promise<void>((resume) => waiting.push(resume)); // the slot is handed over by release()
}

function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** What a read thread posts back once: its result, or why it failed (with SQLite's code, as the writer's do). */
type ThreadAnswer<T> = { ok: true; result: T } | { ok: false; error: WriterError };
/** What a read thread may post any number of times before its answer: how far its work has got. */
interface ThreadProgress {
  progress: unknown;
}

export interface ReadThreadJob {
  /** The caller's import.meta.url: the thread's module `./<name>.js` (or `.ts`) is next to it. */
  callerUrl: string;
  name: string;
  workerData: unknown;
  /** What the work is, for its errors: "audit verification". */
  what: string;
  /** What a caller refused for too many waiting calls is told (with Retry-After). */
  busy: string;
  /** Called with each progress report the thread posts (postProgress), until its answer. */
  onProgress?: (progress: unknown) => void;
}

/** Runs the thread `job` names once a slot is free, and resolves with what it answers (runInReadThread). */
export async function inReadThread<T>(job: ReadThreadJob): Promise<T> {
  await acquire(job.busy);
  try {
    const worker = startThread(job.callerUrl, job.name, { workerData: job.workerData });
    return await new Promise<T>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${job.what} stopped (exit ${code})`)));
      const onMessage = (m: ThreadAnswer<T> | ThreadProgress) => {
        if ('progress' in m) {
          job.onProgress?.(m.progress);
          return;
        }
        worker.off('message', onMessage);
        if (m.ok) resolve(m.result);
        // With SQLite's code and the free space: a damaged or failing database is then the 503 that says so, as
        // the same read on the service's thread would be, not an internal error.
        else reject(withStorageFacts(new Error(`${job.what} failed: ${m.error.message}`), m.error));
      };
      worker.on('message', onMessage);
    }).finally(() => void worker.terminate());
  } finally {
    release();
  }
}

/** In a read thread: reports how far its work has got to the caller's ReadThreadJob.onProgress. */
export function postProgress(progress: unknown): void {
  const message: ThreadProgress = { progress };
  parentPort!.postMessage(message);
}

/** In a read thread: posts what `work` returns, or why it threw, to the thread that started it. */
export function answerFromThread<T>(work: () => T): void {
  let answer: ThreadAnswer<T>;
  try {
    answer = { ok: true, result: work() };
  } catch (e) {
    answer = { ok: false, error: errorOf(e) };
  }
  parentPort!.postMessage(answer);
}
