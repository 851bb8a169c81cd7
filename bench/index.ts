// `npm run bench`: every benchmark in turn (numbers, not pass/fail). Results go to bench/results/*.json;
// docs/benchmarks.md records them with the machine and date.
import { join } from 'node:path';
import { benchEngine } from './engine.js';
import { benchService } from './service.js';
import { benchCache, reportCache } from './cache.js';
import { runAuditBench } from './audit.js';
import { runAuditPageBench } from './audit-page.js';
import { machine } from './util.js';

const m = machine();
console.log(
  `BranchLens benchmarks — ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.date}`,
);

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('engine')) await benchEngine({ backend: 'wasm', writeTuning: args.includes('--write-tuning') });
if (want('service')) await benchService();
if (want('cache')) reportCache(await benchCache());
if (want('audit')) {
  console.log('\nAudit log');
  await runAuditBench({ resultsFile: join(process.cwd(), 'bench', 'results', 'audit.json') });
}
if (want('audit-page')) {
  console.log('\nAudit page filters');
  await runAuditPageBench(undefined, join(process.cwd(), 'bench', 'results', 'audit-page.json'));
}
