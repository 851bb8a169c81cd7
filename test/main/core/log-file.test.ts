// The desktop app's log file: stamped records, an error's stack indented under its line, rotation by size with
// a few files kept, and never a failure of the caller when the file cannot be written.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFile, Logger, type LogConsole } from '../../../main/core/log-file.js';
import { removeDir, tempDir } from '../../helpers/bundles.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('branchlens-log-');
});
afterEach(() => removeDir(dir));

const at = () => new Date('2026-11-26T20:15:00.000Z');

describe('LogFile', () => {
  it('writes one stamped line per record, creating its folder, with an error stack indented below', () => {
    const log = new LogFile({ dir: join(dir, 'logs'), now: at });
    expect(log.write('info', 'data in /srv/branch; 2 engine worker(s) on wasm')).toBe(true);
    const error = new Error('disk I/O error');
    expect(log.write('error', 'IPC explain failed', error)).toBe(true);
    log.write('warn', 'two\nlines');
    const lines = readFileSync(log.path, 'utf8').split('\n');
    expect(lines[0]).toBe('2026-11-26T20:15:00.000Z INFO  data in /srv/branch; 2 engine worker(s) on wasm');
    expect(lines[1]).toBe('2026-11-26T20:15:00.000Z ERROR IPC explain failed');
    expect(lines[2]).toBe('    Error: disk I/O error');
    expect(lines[3]).toMatch(/^ {4}\s*at /);
    // Every continuation line is indented: a reader (or grep) tells records apart by their first column.
    const records = lines.filter((l) => l && !l.startsWith('    '));
    expect(records.map((l) => l.slice(25, 30))).toEqual(['INFO ', 'ERROR', 'WARN ']);
    expect(lines.at(-2)).toBe('    lines');
  });

  it('rotates before a record would pass the size bound, keeping the newest files', () => {
    const log = new LogFile({ dir, maxBytes: 200, keep: 2, now: at });
    for (let i = 0; i < 12; i++) log.write('info', `record ${String(i).padStart(2, '0')} ${'x'.repeat(40)}`);
    expect(readdirSync(dir).sort()).toEqual(['branchlens.log', 'branchlens.log.1', 'branchlens.log.2']);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(200);
    // The newest records are in the current file, the next older in .1, and the oldest are gone.
    const current = readFileSync(join(dir, 'branchlens.log'), 'utf8');
    expect(current).toContain('record 11');
    const older = readFileSync(join(dir, 'branchlens.log.1'), 'utf8');
    expect(Number(/record (\d+)/.exec(older)![1])).toBeLessThan(11);
    expect(readFileSync(join(dir, 'branchlens.log.2'), 'utf8')).not.toContain('record 00');
  });

  it('continues a log left by an earlier run, counting its size', () => {
    writeFileSync(join(dir, 'branchlens.log'), 'x'.repeat(190) + '\n');
    const log = new LogFile({ dir, maxBytes: 200, now: at });
    log.write('info', 'after a restart');
    expect(readFileSync(join(dir, 'branchlens.log.1'), 'utf8')).toBe('x'.repeat(190) + '\n');
    expect(readFileSync(log.path, 'utf8')).toContain('after a restart');
  });

  it('keeps writing past the bound, losing no record, while the file cannot be rotated', () => {
    // What Windows does to a log open in another program: it will not move it. Here, a folder in the way.
    mkdirSync(join(dir, 'branchlens.log.1', 'held'), { recursive: true });
    const log = new LogFile({ dir, maxBytes: 100, keep: 1, now: at });
    for (let i = 0; i < 5; i++) expect(log.write('info', `record ${i} ${'x'.repeat(40)}`)).toBe(true);
    const current = readFileSync(log.path, 'utf8');
    expect(current.split('\n').filter(Boolean)).toHaveLength(5);
    expect(current).toContain('record 4');
    // Once it can be moved, the next record rotates it as usual.
    removeDir(join(dir, 'branchlens.log.1'));
    expect(log.write('info', 'after the viewer closed')).toBe(true);
    expect(readFileSync(join(dir, 'branchlens.log.1'), 'utf8')).toContain('record 4');
    expect(readFileSync(log.path, 'utf8')).toContain('after the viewer closed');
  });

  it('reports false, and throws nothing, when its folder is a file', () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const log = new LogFile({ dir: file, now: at });
    expect(log.write('error', 'nowhere to go')).toBe(false);
    expect(existsSync(log.path)).toBe(false);
  });
});

describe('Logger', () => {
  function recordingConsole() {
    const printed: unknown[][] = [];
    const out: LogConsole = {
      log: (...a: unknown[]) => void printed.push(['log', ...a]),
      warn: (...a: unknown[]) => void printed.push(['warn', ...a]),
      error: (...a: unknown[]) => void printed.push(['error', ...a]),
    };
    return { out, printed };
  }

  it('prints to the console as before and keeps the same records in the file, made on first use', () => {
    const { out, printed } = recordingConsole();
    let made = 0;
    const logger = new Logger(() => {
      made++;
      return new LogFile({ dir, now: at });
    }, out);
    expect(made).toBe(0);
    logger.info('data in /srv/branch');
    logger.warn('safeStorage uses basic_text: the key stays in a 0600 file');
    const failure = new Error('worker exited');
    logger.error('IPC explain failed', failure);
    expect(made).toBe(1);
    expect(printed).toEqual([
      ['log', 'BranchLens: data in /srv/branch'],
      ['warn', 'BranchLens: warning: safeStorage uses basic_text: the key stays in a 0600 file'],
      ['error', 'BranchLens: IPC explain failed', failure],
    ]);
    const text = readFileSync(join(dir, 'branchlens.log'), 'utf8');
    expect(text).toContain('INFO  data in /srv/branch\n');
    expect(text).toContain('WARN  safeStorage uses basic_text');
    expect(text).toContain('ERROR IPC explain failed\n    Error: worker exited\n');
    expect(logger.path).toBe(join(dir, 'branchlens.log'));
    // What the console shows already (Node's own process warnings) goes to the file alone.
    logger.fileOnly('warn', 'DeprecationWarning: Buffer() is deprecated');
    expect(printed).toHaveLength(3);
    expect(readFileSync(join(dir, 'branchlens.log'), 'utf8')).toContain('WARN  DeprecationWarning: Buffer()');
  });

  it('still prints when no log file can be had, and asks for it once', () => {
    const { out, printed } = recordingConsole();
    let asked = 0;
    const logger = new Logger(() => {
      asked++;
      throw new Error('no logs folder yet');
    }, out);
    logger.error('cannot start', new Error('bad bundle'));
    logger.info('still here');
    expect(printed.map((p) => p[1])).toEqual(['BranchLens: cannot start', 'BranchLens: still here']);
    expect(logger.path).toBeNull();
    expect(asked).toBe(1);
  });
});
