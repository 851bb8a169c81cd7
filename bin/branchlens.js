#!/usr/bin/env node
// The `branchlens` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs at prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'branchlens: the CLI is not built yet. Run `npm run build` (npm ci does it for you).\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
