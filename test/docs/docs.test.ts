// The user-facing documentation against what it describes: its links resolve, the names it lists are the code's,
// and its worked example is of the demo model that ships. Branch IT and head-office compliance operate BranchLens
// from these pages, so a stale name or a dead link is a defect.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../main/cli/commands/index.js';
import { explanationDocumentSchema } from '../../shared/explanation.js';
import { PROBLEM_REASONS } from '../../shared/problems.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The text outside fenced code blocks: links and headings in examples are not the page's. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (letters of any script kept), spaces as `-`. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  return new Set([...prose(read(file)).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1]!)));
}

describe('the documentation', () => {
  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const [, target] of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, hash] = target!.split('#') as [string, string | undefined];
        const linked = path ? resolve(ROOT, dirname(file), path) : join(ROOT, file);
        if (!existsSync(linked)) broken.push(`${file}: ${target} (no such file)`);
        else if (hash && linked.endsWith('.md') && !anchors(linked.slice(ROOT.length)).has(hash)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('lists every reason a problem may carry in docs/http-api.md', () => {
    const page = read('docs/http-api.md');
    const missing = Object.keys(PROBLEM_REASONS).filter((reason) => !page.includes(`\`${reason}\``));
    expect(missing).toEqual([]);
  });

  it('gives in README.md every command of the CLI and every flag of its usage', () => {
    const readme = read('README.md');
    const missing: string[] = [];
    for (const command of COMMANDS) {
      if (!readme.includes(command.name.split(' ')[0]!)) missing.push(command.name);
      for (const [flag] of command.usage.matchAll(/--[a-z][a-z-]*/g)) {
        if (!readme.includes(flag)) missing.push(`${command.name} ${flag}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("shows in docs/api.md a document of the demo model that ships, in the document's schema", () => {
    const page = read('docs/api.md');
    const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(page)![1]!) as { model: { sha256: string } };
    expect(explanationDocumentSchema.safeParse(example).success).toBe(true);
    const manifest = readFileSync(join(ROOT, 'assets/models/credit-demo/manifest.json'));
    expect(example.model.sha256).toBe(createHash('sha256').update(manifest).digest('hex'));
  });
});
