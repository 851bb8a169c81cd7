// sampledSeries in a thread of its own (read-thread.ts) for a range it thins: summarising every snapshot of a
// year (8,760 of ~4 KB) takes ~0.4 s, which on the service's thread would hold up every request meanwhile.
import { inReadThread } from '../read-thread.js';
import type { SampledRange, SampledSeries } from './store.js';

export function sampledSeriesInThread(dataDir: string, range: SampledRange): Promise<SampledSeries> {
  return inReadThread<SampledSeries>({
    callerUrl: import.meta.url,
    name: 'series-thread',
    workerData: { dataDir, range },
    what: 'reading the monitoring series',
    busy: 'the database is being read for other requests (audit verifications, long monitoring series); retry shortly',
  });
}
