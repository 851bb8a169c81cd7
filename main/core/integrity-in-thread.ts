// The database's integrity check (open.ts integrityProblems) in a thread of its own (read-thread.ts): it reads
// every page, about 2 s per GB from memory and 8 s or more from disk, which on the service's thread would hold up
// every request meanwhile, and at opening would make every start wait for it.
import { inReadThread } from './read-thread.js';

/** What the integrity check finds wrong in `dataDir`'s database: nothing ([]) when it is sound. */
export function integrityProblemsInThread(dataDir: string): Promise<string[]> {
  return inReadThread<string[]>({
    callerUrl: import.meta.url,
    name: 'integrity-thread',
    workerData: { dataDir },
    what: 'the database’s integrity check',
    busy: 'the database is being read for other requests (audit verifications, long monitoring series); retry shortly',
  });
}
