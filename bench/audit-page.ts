// The audit page's filters on a log the size of years at a branch: 1M entries stamped at a branch's pace (500
// decisions a day, ~5.5 years), a model activation every 25,000 entries, the model's version changing with each,
// decisions approved and declined. Each query's first page (50 entries) is timed warm, median of 5, with the
// indexes of migration 009 and again on the same log without them (dropped, a fresh connection), as the page
// answered before. Also timed: building the indexes on a log written before them (the one-off cost of the
// migration at the first writable opening after an update).
// Run: npx tsx bench/audit-page.ts [--entries N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { appendPrepared } from '../main/core/audit/append.js';
import { prepareEntry } from '../main/core/audit/entry.js';
import { auditPage } from '../main/core/audit/query.js';
import { migration009 } from '../main/core/db/migrations/009-audit-filter-indexes.js';
import { openWritable, type WritableDb } from '../main/core/db/open.js';
import { API_REQUESTS } from '../shared/contract.js';
import { entry, pacedStamp } from './audit.js';

const MODEL_EVERY = 25_000;
const version = (i: number) => `1.${Math.floor(i / MODEL_EVERY)}.0`;

function fill(db: WritableDb, count: number): void {
  for (let n = 0; n < count; n += 5000) {
    const batch = Array.from({ length: Math.min(5000, count - n) }, (_, k) => {
      const i = n + k;
      const at = pacedStamp(i);
      if (i % MODEL_EVERY === MODEL_EVERY - 1) {
        return prepareEntry(
          {
            kind: 'model_activate',
            model: { id: 'credit-demo', version: version(i + 1), sha256: 'ab'.repeat(32) },
            details: { previous: version(i) },
          },
          at,
        );
      }
      const e = entry(i);
      return prepareEntry(
        {
          ...e,
          model: { ...e.model!, version: version(i) },
          details: { decision: { approved: i % 3 !== 0 } },
        },
        at,
      );
    });
    appendPrepared(db, batch);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runAuditPageBench(count = 1_000_000, resultsFile?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'branchlens-bench-audit-page-'));
  try {
    let db = openWritable(dir);
    const t0 = performance.now();
    fill(db, count);
    const fillSeconds = (performance.now() - t0) / 1000;
    const last = pacedStamp(count - 1);
    const day = (daysBack: number) => new Date(last.getTime() - daysBack * 86_400_000).toISOString();
    const mid = Math.floor(count / 2);
    const queries: [string, Record<string, unknown>][] = [
      ['newest (no filter)', {}],
      ['one day, a year back', { from: day(366), to: day(365) }],
      ['one month, a year back', { from: day(395), to: day(365) }],
      ['to a year back (wide)', { to: day(365) }],
      ['from a week back', { from: day(7) }],
      ['model changes only', { kind: 'model_activate' }],
      ['one model version (the middle one)', { model_version: version(mid) }],
      ['declined, one week a year back', { decision: 'declined', from: day(372), to: day(365) }],
      ['model changes in the oldest year', { kind: 'model_activate', to: pacedStamp(182_500).toISOString() }],
    ];
    const time = (d: WritableDb, q: Record<string, unknown>) => {
      const parsed = API_REQUESTS.auditPage.parse({ limit: 50, ...q });
      const runs: number[] = [];
      let n = 0;
      for (let r = 0; r < 6; r++) {
        const t = performance.now();
        n = auditPage(d, parsed).entries.length;
        if (r > 0) runs.push(performance.now() - t);
      }
      return { ms: median(runs), entries: n };
    };
    const withIndexes = queries.map(([, q]) => time(db, q));
    const usedBytes = (d: WritableDb) =>
      ((d.pragma('page_count', { simple: true }) as number) -
        (d.pragma('freelist_count', { simple: true }) as number)) *
      (d.pragma('page_size', { simple: true }) as number);
    const bytesWith = usedBytes(db);
    db.exec(
      'DROP INDEX audit_entries_timestamp; DROP INDEX audit_entries_kind; DROP INDEX audit_entries_model_version;',
    );
    const indexBytesPerEntry = (bytesWith - usedBytes(db)) / count;
    db.close();
    db = openWritable(dir);
    const without = queries.map(([, q]) => time(db, q));
    const t1 = performance.now();
    migration009.up(db as never);
    const migrationSeconds = (performance.now() - t1) / 1000;
    db.close();

    const rows = queries.map(([name], k) => ({
      query: name,
      entries: withIndexes[k]!.entries,
      ms: Number(withIndexes[k]!.ms.toFixed(2)),
      msWithoutIndexes: Number(without[k]!.ms.toFixed(2)),
    }));
    for (const [k, r] of rows.entries()) {
      if (r.entries !== without[k]!.entries)
        throw new Error(`${r.query}: ${r.entries} entries, ${without[k]!.entries} without indexes`);
    }
    console.log(
      `audit page, ${count.toLocaleString('en')} entries (filled in ${fillSeconds.toFixed(1)} s), first page of 50, warm, median of 5`,
    );
    console.log('| query | entries | with indexes ms | without ms |');
    console.log('| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.query} | ${r.entries} | ${r.ms} | ${r.msWithoutIndexes} |`);
    console.log(
      `migration 009 on this log: ${migrationSeconds.toFixed(2)} s; its indexes take ${indexBytesPerEntry.toFixed(1)} B per entry`,
    );
    const result = { entries: count, rows, migrationSeconds, indexBytesPerEntry, node: process.version };
    if (resultsFile) {
      mkdirSync(dirname(resultsFile), { recursive: true });
      writeFileSync(resultsFile, JSON.stringify(result, null, 2) + '\n');
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { entries: { type: 'string' } } });
  await runAuditPageBench(
    values.entries ? Number(values.entries) : undefined,
    join(dirname(fileURLToPath(import.meta.url)), 'results', 'audit-page.json'),
  );
}
