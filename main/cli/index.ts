// `branchlens`: the command-line transport. Each command lives in commands/; errors become exit codes.
import { formatProblems, isInputError, type Problem } from '../../shared/problems.js';
import { CountedInputError } from '../core/applicants.js';
import { storageFailure } from '../core/db/open.js';
import { guardOutput, writeOut, type CliIo, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';

function help(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: branchlens <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Common options: --data DIR (or $BRANCHLENS_DATA; default: the desktop app's data folder, ~/.config/BranchLens/data on Linux), -h/--help",
    '',
  ].join('\n');
}

/** The most problems listed: a file of 200,000 bad rows is fixed from its first ones, not read in full. */
export const MAX_PROBLEMS_LISTED = 100;

/**
 * The problems as formatProblems lists them, the first MAX_PROBLEMS_LISTED of them and how many more of the
 * `total` (which counts those found but not kept: see CountedInputError).
 */
function listed(problems: readonly Problem[], total: number): string {
  const more = total - MAX_PROBLEMS_LISTED;
  if (more <= 0) return formatProblems(problems);
  return `${formatProblems(problems.slice(0, MAX_PROBLEMS_LISTED))}\n  …and ${more} more problem${more === 1 ? '' : 's'}`;
}

function find(
  argv: string[],
  commands: readonly Command[],
): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = commands.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  // A closed pipe or a full disk on either stream is reported (stdout) or ignored (stderr), never a crash.
  guardOutput(io.stdout);
  guardOutput(io.stderr);
  const found = find(argv, commands);
  const name = found ? `branchlens ${found.command.name}` : 'branchlens';
  try {
    return await dispatch(argv, io, commands, found);
  } catch (e) {
    if (isInputError(e)) {
      const total = e.problems.length + (e instanceof CountedInputError ? e.omitted : 0);
      io.stderr.write(`${name}: the input has ${total} problem(s):\n${listed(e.problems, total)}\n`);
      return 2;
    }
    const err = e as Error;
    // SQLite's bare words ("disk I/O error") are said as a request is told them: full, failing, read-only…
    io.stderr.write(`${name}: ${storageFailure(e) ?? err.message}\n`);
    if (io.env.BRANCHLENS_DEBUG) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

async function dispatch(
  argv: string[],
  io: CliIo,
  commands: readonly Command[],
  found: { command: Command; rest: string[] } | undefined,
): Promise<number> {
  // `branchlens help explain` is `branchlens explain --help` (and `help models`, `models --help`).
  if (argv[0] === 'help' && argv.length > 1) {
    const asked = [...argv.slice(1), '--help'];
    return dispatch(asked, io, commands, find(asked, commands));
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    await writeOut(io, help(commands));
    return 0;
  }
  const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
  // `branchlens models --help`: the group's commands with their usage, as `branchlens --help` lists them all.
  if (!found && group.length && (argv[1] === '--help' || argv[1] === '-h')) {
    await writeOut(io, group.map((c) => `${c.usage}\n    ${c.summary}\n`).join(''));
    return 0;
  }
  if (!found) {
    io.stderr.write(
      group.length
        ? `branchlens ${argv[0]}: expected one of: ${group.map((c) => c.name.split(' ')[1]).join(', ')}\n`
        : `branchlens: unknown command "${argv[0]}"\n\n${help(commands)}`,
    );
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    await writeOut(io, `Usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  return await command.run(rest, io);
}
