// The data folder every command uses: one that cannot be created or written is bad input naming where it came
// from (--data or $BRANCHLENS_DATA), exit 2, never a raw EEXIST from mkdir.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../../main/cli/command.js';
import { tensorflowInstalled } from '../../../main/core/tf/installed.js';
import { expectInputError, removeDir, runCli, samplePath, tempDir } from './helpers.js';

let work: string;
let aFile: string;

beforeAll(() => {
  work = tempDir('branchlens-data-flag-');
  aFile = join(work, 'a-file');
  writeFileSync(aFile, 'not a folder');
});
afterAll(() => removeDir(work));

describe('a data folder that cannot be used', () => {
  const commands: [string, string[]][] = [
    ['explain', ['explain']],
    ['models list', ['models', 'list']],
    ['verify', ['verify', samplePath('sample-1.json')]],
    ['audit verify', ['audit', 'verify']],
    ['audit export', ['audit', 'export', '--format', 'jsonl']],
    ['audit public-key', ['audit', 'public-key']],
    ['demo', ['demo']],
    // Its EACCES used to be read as the port's.
    ['serve', ['serve', '--port', '0', '--workers', '1']],
  ];

  it.each(commands)('%s --data FILE exits 2 naming --data: it is a file', async (_name, argv) => {
    const stderr = expectInputError(await runCli([...argv, '--data', aFile]));
    expect(stderr).toContain(`- --data: cannot use ${aFile}: it is a file, not a folder`);
  });

  it('--data under a file exits 2 naming --data: part of the path is a file', async () => {
    const dir = join(aFile, 'data');
    const stderr = expectInputError(await runCli(['audit', 'public-key', '--data', dir]));
    expect(stderr).toContain(`- --data: cannot use ${dir}: part of the path is a file, not a folder`);
  });

  it('names $BRANCHLENS_DATA when the folder came from it', async () => {
    const stderr = expectInputError(await runCli(['audit', 'public-key'], '', { BRANCHLENS_DATA: aFile }));
    expect(stderr).toContain(`- $BRANCHLENS_DATA: cannot use ${aFile}: it is a file, not a folder`);
  });

  // On macOS the default is under the home folder, which no variable moves.
  it.skipIf(process.platform === 'darwin')(
    'names the default folder and --data when neither is given',
    async () => {
      const stderr = expectInputError(
        await runCli(['audit', 'public-key'], '', { XDG_CONFIG_HOME: aFile, APPDATA: aFile }),
      );
      expect(stderr).toMatch(
        /- --data: cannot use .*a-file.* \(the default data folder; choose another with --data DIR\)/,
      );
    },
  );

  it('a folder that is not there yet is created, and the officer is told so once', async () => {
    const dir = join(work, 'new', 'data');
    // (Not audit public-key, which needs an installation and never makes one.)
    const run = await runCli(['models', 'list', '--data', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'branchlens.db'))).toBe(true);
    // A mistyped --data starts an installation of its own: said on stderr, naming where it came from.
    expect(run.stderr).toBe(
      `note: ${dir} did not exist: it now holds a new installation, with its own audit log and keys. If you meant an existing one, check --data.\n`,
    );
    expect(run.stdout).toContain('credit-demo');
    const again = await runCli(['audit', 'public-key', '--data', dir]);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('BEGIN PUBLIC KEY');
  });

  it('names $BRANCHLENS_DATA, or says where the first run put the default folder', async () => {
    const fromEnv = join(work, 'from-env');
    const run = await runCli(['models', 'list'], '', { BRANCHLENS_DATA: fromEnv });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`note: ${fromEnv} did not exist`);
    expect(run.stderr).toContain('check $BRANCHLENS_DATA');
    if (process.platform === 'darwin') return; // the default is under the home folder there
    const home = join(work, 'config');
    const first = await runCli(['models', 'list'], '', { XDG_CONFIG_HOME: home, APPDATA: home });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      /^note: first run: the data folder \(audit log, keys, models\) is .*config.*\n$/,
    );
  });

  it('a reader creates nothing and says nothing of a folder that is not there', async () => {
    const dir = join(work, 'never-made');
    const run = await runCli(['audit', 'verify', '--data', dir]);
    expect(run.stderr).not.toContain('note:');
    expect(existsSync(dir)).toBe(false);
  });
});

describe("an empty --data or $BRANCHLENS_DATA (a script's unset variable)", () => {
  // Were the empty name taken as "not given", these would use the default folder: a temporary one here.
  const defaults = () => {
    const home = join(work, 'empty-default');
    return { env: { XDG_CONFIG_HOME: home, APPDATA: home, XDG_DATA_HOME: home, HOME: home }, home };
  };
  const commands: [string, string[]][] = [
    ['explain', ['explain']],
    ['models list', ['models', 'list']],
    ['audit verify', ['audit', 'verify']],
    ['audit public-key', ['audit', 'public-key']],
    ['verify', ['verify', samplePath('sample-1.json')]],
    ['serve', ['serve', '--port', '0', '--workers', '1']],
  ];

  it.each(commands)('%s --data "" exits 2: --data: is empty, and touches no folder', async (_name, argv) => {
    const { env, home } = defaults();
    for (const empty of ['', ' ']) {
      const stderr = expectInputError(await runCli([...argv, '--data', empty], '', env));
      expect(stderr).toContain(
        '- --data: is empty: name the data folder (leave --data out for the default one)',
      );
    }
    expect(existsSync(home)).toBe(false);
  });

  it('an empty $BRANCHLENS_DATA exits 2 naming it, unless --data names the folder', async () => {
    const { env, home } = defaults();
    const stderr = expectInputError(await runCli(['explain'], '', { ...env, BRANCHLENS_DATA: '' }));
    expect(stderr).toContain(
      '- $BRANCHLENS_DATA: is empty: name the data folder, or unset it for the default one',
    );
    expect(existsSync(home)).toBe(false);
    const dir = join(work, 'named-by-flag');
    const run = await runCli(['models', 'list', '--data', dir], '', { ...env, BRANCHLENS_DATA: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'branchlens.db'))).toBe(true);
  });
});

describe('--backend tensorflow without tfjs-node', () => {
  // tfjs-node's install downloads libtensorflow, so on an offline machine it is not there.
  it.skipIf(tensorflowInstalled()).each([
    ['explain', ['explain']],
    ['serve', ['serve', '--port', '0', '--workers', '1']],
  ])('%s exits 2 naming --backend, before anything starts', async (_name, argv) => {
    const dir = join(work, 'backend');
    const stderr = expectInputError(await runCli([...argv, '--backend', 'tensorflow', '--data', dir]));
    expect(stderr).toContain(
      '- --backend: "tensorflow" needs @tensorflow/tfjs-node, which is not installed here',
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('serve checks its flags before the data folder is opened', () => {
  it.each([
    [
      'a --host no resolver knows',
      ['--host', 'nosuchhost.invalid'],
      '- --host: nosuchhost.invalid:0 names no known host',
    ],
    [
      'a --model that is not there',
      ['--model', '/nonexistent-bundle'],
      '- --model: /nonexistent-bundle does not exist',
    ],
  ])('%s exits 2 naming the flag, and creates nothing', async (_name, flags, problem) => {
    const dir = join(work, 'serve-never-made');
    const stderr = expectInputError(
      await runCli(['serve', '--port', '0', '--workers', '1', ...flags, '--data', dir]),
    );
    expect(stderr).toContain(problem);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('$BRANCHLENS_CACHE_TTL_SECONDS is checked before the data folder is opened', () => {
  it.each([
    ['demo', ['demo']],
    ['models list', ['models', 'list']],
    ['serve', ['serve', '--port', '0', '--workers', '1']],
  ])('%s with a fraction of a second exits 2 naming it, and creates nothing', async (_name, argv) => {
    const dir = join(work, 'ttl-never-made');
    const stderr = expectInputError(
      await runCli([...argv, '--data', dir], '', { BRANCHLENS_CACHE_TTL_SECONDS: '1.0005' }),
    );
    expect(stderr).toContain('- $BRANCHLENS_CACHE_TTL_SECONDS: must be a whole number of seconds');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('help for a command', () => {
  it('help COMMAND prints what COMMAND --help prints', async () => {
    for (const command of [['explain'], ['models', 'import'], ['models']]) {
      const help = await runCli(['help', ...command]);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toBe((await runCli([...command, '--help'])).stdout);
      expect(help.stdout).toContain(`branchlens ${command.join(' ')}`);
    }
    expect((await runCli(['help', 'explain'])).stdout).toMatch(/^Usage: branchlens explain \[--model DIR\]/);
    // `help` alone is the list of commands, and a command there is none of is said so.
    expect((await runCli(['help'])).stdout).toMatch(/^Usage: branchlens <command>/);
    expect(expectInputError(await runCli(['help', 'bogus']))).toContain('unknown command "bogus"');
  });

  it('says what serve serves and which model explain uses, as the README does', async () => {
    const serve = (await runCli(['serve', '--help'])).stdout;
    for (const protocol of ['Seldon v1', 'KServe V1 and V2', 'the app API', '/metrics']) {
      expect(serve).toContain(protocol);
    }
    // The active model explains (a branch's own, once activated); only the sample applicant is the demo's.
    expect((await runCli(['explain', '--help'])).stdout).toContain('default: the active model');
  });
});

describe('help for a group of commands', () => {
  it('models --help and audit --help list their commands with usage, exit 0', async () => {
    for (const [group, commands] of [
      ['models', ['list', 'import', 'activate', 'rollback']],
      ['audit', ['verify', 'export', 'public-key']],
    ] as const) {
      const run = await runCli([group, '--help']);
      expect(run.code, run.stderr).toBe(0);
      for (const c of commands) expect(run.stdout).toContain(`branchlens ${group} ${c}`);
    }
    // Without --help, a group alone still says what it expects, as bad input.
    expect((await runCli(['models'])).code).toBe(2);
  });
});

describe('a storage failure after the data folder opened', () => {
  it('is said as what is wrong with the disk, not SQLite’s bare words', async () => {
    const failing = (error: Error): Command => ({
      name: 'explain',
      summary: '',
      usage: '',
      run: () => Promise.reject(error),
    });
    const io = (code: string, freeBytes?: number) =>
      Object.assign(new Error('disk I/O error'), { code }, freeBytes === undefined ? {} : { freeBytes });
    const full = await runCli(['explain'], '', {}, [failing(io('SQLITE_IOERR_SHMSIZE', 4096))]);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe(
      'branchlens explain: the disk holding the database is full (4096 bytes free): free some space on it\n',
    );
    const broken = await runCli(['explain'], '', {}, [failing(io('SQLITE_IOERR_WRITE', 10 ** 9))]);
    expect(broken.stderr).toBe(
      'branchlens explain: the disk holding the database reported an error (SQLITE_IOERR_WRITE)\n',
    );
    // Any other error as it is.
    const other = await runCli(['explain'], '', {}, [failing(new Error('no such thing'))]);
    expect(other.stderr).toBe('branchlens explain: no such thing\n');
  });
});
