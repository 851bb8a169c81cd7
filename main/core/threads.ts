// Starting one of the core's worker threads: the compiled .js next to the caller, or, when running from the
// TypeScript sources (tests, benchmarks), the .ts source through tsx's loader registered inside the thread.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts `./<name>.js` (or `.ts`) next to the module at `callerUrl` (its import.meta.url). */
export function startThread(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
