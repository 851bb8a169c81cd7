// `branchlens audit verify | export | public-key`: checks the audit log (or an export of it), exports it for
// head office, and prints the public key head office verifies exports with.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InputError, isInputError } from '../../../shared/problems.js';
import { localIso, utcOffset } from '../../../shared/local-time.js';
import {
  auditPublicKey,
  EXPORT_FORMATS,
  exportAudit,
  ExportTooLargeError,
  continuityNeeds,
  exportContinuity,
  verifyExportStream,
  type ExportContinuity,
  type AuditExportFormat,
  type AuditVerification,
  type ExportVerification,
} from '../../core/audit/index.js';
import type { AuditExportProgress } from '../../core/audit/export.js';
import { verifyAuditAsync, type AuditProgress } from '../../core/audit/verify.js';
import {
  DatabaseError,
  DB_FILE,
  dbPath,
  openReadable,
  openWritable,
  type ReadableDb,
} from '../../core/db/open.js';
import {
  fileSecretStore,
  loadOrCreateSigningKey,
  loadSigningKey,
  SIGNING_KEY_FILE,
  type SigningKey,
} from '../../core/keys.js';
import {
  DATA_OPTION,
  dataDirFrom,
  dataDirSource,
  guardOutput,
  OutputError,
  parseFlags,
  writeJson,
  writeOut,
  type CliIo,
  type Command,
} from '../command.js';
import { OutFileWriteError, writeOutFile } from '../../core/out-file.js';
import { withFreeSpaceOnFailure } from '../../core/db/open.js';

/** The signing key's file, as problems name it (relative to the data folder). */
const KEY_FIELD = `keys/${SIGNING_KEY_FILE}`;

export function problem(field: string, message: string, code: 'invalid' | 'missing' = 'invalid'): InputError {
  return new InputError([{ field, code, message }]);
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw problem(flag, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The export to verify, streamed: a file, or standard input for `-` (`flag` names it in problems). */
function exportSource(path: string, io: CliIo, flag = '--export'): NodeJS.ReadableStream {
  if (path === '-') return io.stdin;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw problem(flag, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw problem(flag, `cannot read ${path}: it is a folder`);
  }
  return createReadStream(path, { fd, highWaterMark: 1024 * 1024 });
}

/** The database to verify; a data folder without one is a bad --data (exit 2), not a broken log (exit 1). */
function openLog(dataDir: string, values: { data?: string }, io: CliIo): ReadableDb {
  try {
    return openReadable(dataDir, { integrityCheck: true });
  } catch (e) {
    // A database file that is there but cannot be read is a damaged log (exit 1), not a wrong folder.
    if (!(e instanceof DatabaseError) || existsSync(dbPath(dataDir))) throw e;
    const field = dataDirSource(values, io.env) ?? '--data';
    throw problem(
      field,
      `${dataDir} ${existsSync(dataDir) ? 'holds no BranchLens database' : 'does not exist'}: pass the data folder of the installation to check`,
    );
  }
}

function publicKeyFromFile(path: string, flag = '--public-key'): KeyObject {
  const bytes = readFlagFile(flag, path);
  let key: KeyObject;
  try {
    key = createPublicKey(bytes);
  } catch {
    throw problem(flag, `${path} is not a PEM public key (get one with \`branchlens audit public-key\`)`);
  }
  // Another kind of key verifies no checkpoint: a wrong file picked (an RSA key, an X25519 key) is a bad flag,
  // not a log or an export reported broken.
  if (key.asymmetricKeyType !== 'ed25519') {
    throw problem(
      flag,
      `${path} holds a key of type ${key.asymmetricKeyType ?? 'unknown'}, not an Ed25519 public key: audit checkpoints and exports are signed with Ed25519 (get the branch's key with \`branchlens audit public-key\`)`,
    );
  }
  return key;
}

/** The installation's own signing key, without creating one when there is none; a damaged file is exit 2. */
function ownSigningKey(dataDir: string, hint = ''): SigningKey | undefined {
  try {
    return loadSigningKey(fileSecretStore(dataDir));
  } catch (e) {
    if (!isInputError(e) || !hint) throw e;
    throw new InputError(e.problems.map((p) => ({ ...p, message: `${p.message} ${hint}` })));
  }
}

/** A data folder that holds no installation (no database) is a bad --data: exit 2 naming where it came from. */
export function requireInstallation(
  dataDir: string,
  values: { data?: string },
  io: CliIo,
  what: string,
): void {
  if (existsSync(dbPath(dataDir))) return;
  throw problem(
    dataDirSource(values, io.env) ?? '--data',
    `${dataDir} ${existsSync(dataDir) ? `holds no BranchLens installation (no ${DB_FILE})` : 'does not exist'}: point --data at the data folder of the branch's installation ${what}`,
  );
}

/**
 * Writes `--out FILE` (see writeOutFile). A file that was opened but could not be written to the end (a full
 * disk, a file-size limit, a reader gone) is not a bad --out but a failed write: exit 1 with one line,
 * `cannot write FILE: REASON`, as for standard output.
 */
/** An empty `--out` (a script's unset variable) names no file: said, rather than "cannot write ''". */
function checkOutFlag(out: string | undefined): void {
  if (out !== undefined && out.trim() === '') {
    throw problem('--out', 'is empty: name a file (leave --out out for standard output)');
  }
}

async function writeOutFlag<T>(
  path: string,
  write: (out: NodeJS.WritableStream) => Promise<T> | T,
  mode: number,
  dataDir: string,
): Promise<T> {
  try {
    return await writeOutFile('--out', path, write, mode, dataDir);
  } catch (e) {
    if (e instanceof OutFileWriteError) throw new Error(e.failure, { cause: e });
    throw e;
  }
}

/**
 * Runs `write` into standard output and waits until all of it is written: a failed write (a closed pipe, a full
 * disk) is an OutputError (exit 1, `cannot write standard output: EPIPE`), whatever the writer made of it.
 */
async function writeStdout<T>(io: CliIo, write: (out: NodeJS.WritableStream) => Promise<T>): Promise<T> {
  const state = guardOutput(io.stdout);
  if (state.error) throw new OutputError(state.error);
  try {
    const result = await write(io.stdout);
    // Written once this empty write's callback runs: the stream writes in order.
    await writeOut(io, '');
    return result;
  } catch (e) {
    if (state.error) throw new OutputError(state.error);
    throw e;
  }
}

/**
 * Whether `--out` names standard output (/dev/stdout, /dev/fd/1): then it is written as standard output is
 * without --out (through the shell's redirection, where it stands; a failure is `cannot write standard
 * output`), and what else is said goes to stderr, not into the file.
 */
function namesStandardOutput(path: string): boolean {
  return ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'].includes(resolve(path));
}

const short = (hash: string) => hash.slice(0, 16);

/** How often a progress line is redrawn at most: a few times a second. */
const PROGRESS_INTERVAL_MS = 250;

/** A progress line on stderr, redrawn in place; see progressLine. */
interface ProgressLine {
  /** Redraws the line (at most every PROGRESS_INTERVAL_MS) with `label` and how far the work is. */
  show(label: string, p: AuditProgress): void;
  /** Clears the line, if one was drawn. */
  clear(): void;
}

const QUIET: ProgressLine = { show() {}, clear() {} };

/**
 * Progress for a person watching a long command (a large log takes seconds to verify or export): only when stderr
 * is a terminal, so that nothing reaches a pipe, a log file or a script reading --json; drawn over itself with a
 * carriage return and cleared when the work ends, so it leaves nothing behind.
 */
function progressLine(io: CliIo, enabled = true): ProgressLine {
  if (!enabled || (io.stderr as NodeJS.WriteStream).isTTY !== true) return QUIET;
  let drawnAt = 0;
  let drawn = false;
  return {
    show(label, p) {
      const now = Date.now();
      if (now - drawnAt < PROGRESS_INTERVAL_MS) return;
      drawnAt = now;
      drawn = true;
      io.stderr.write(
        `\r${label}: ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')} entries\x1b[K`,
      );
    },
    clear() {
      if (drawn) io.stderr.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** How the checkpoints were checked, for the report: by the installation's key, or by the keys given. */
type KeysUsed = { given: string[] } | { own: string | null };

/** The clause about checkpoints whose signatures could not be checked here (chain-only), if any. */
function otherKeysNote(v: AuditVerification, keys: KeysUsed): string {
  const others = v.otherKeyIds ?? [];
  if (others.length === 0 || 'given' in keys) return '';
  const advice =
    'their signatures can be checked with --public-key, given once for each key (this installation’s own too)';
  if (keys.own === null) {
    return `; this installation has no audit signing key (${KEY_FIELD}): checkpoints signed by ${others.join(', ')}: checked against the chain only; ${advice}`;
  }
  return `; checkpoints signed by earlier key${others.length > 1 ? 's' : ''} ${others.join(', ')}: checked against the chain; ${advice}`;
}

async function reportLog(io: CliIo, v: AuditVerification, keys: KeysUsed): Promise<number> {
  if (v.break) {
    await writeOut(io, `audit log BROKEN at entry ${v.break.seq} (${v.break.kind}): ${v.break.message}\n`);
    return 1;
  }
  if (!v.head) {
    await writeOut(io, 'audit log intact: no entries yet\n');
    return 0;
  }
  const last = v.lastCheckpoint;
  await writeOut(
    io,
    `audit log intact: ${v.entries} entries, head #${v.head.seq} ${short(v.head.entryHash)}…; ` +
      (last
        ? `${v.checkpoints} signed checkpoint(s), the last at #${last.seq} (${last.createdAt})`
        : 'no signed checkpoint yet') +
      (v.unsigned > 0 ? `; ${v.unsigned} entries after it are not signed yet` : '') +
      ('given' in keys && keys.given.length > 1 && last
        ? `; signatures checked with ${keys.given.join(', ')}`
        : '') +
      otherKeysNote(v, keys) +
      '\n',
  );
  return 0;
}

/**
 * The log checked with the keys head office gave (`--public-key`, once per key: the branch's current key and
 * earlier ones): a checkpoint is checked by the signature of the given key it names, and a checkpoint naming a
 * key not given is a break (bad_signature), as with one key.
 */
function verifyWithKeys(
  db: ReadableDb,
  keys: { key: KeyObject; id: string }[],
  progress: ProgressLine,
): Promise<AuditVerification> {
  return verifyAuditAsync(
    db,
    keys.map((k) => k.key),
    { onProgress: (p) => progress.show('verifying', p) },
  );
}

/**
 * The log checked with the installation's own key: its checkpoints by their signatures; those of keys it had
 * before (its key file was lost and a new one made, as `audit export` allows) against the chain only, as an
 * export checks them, and named (otherKeyIds). With no key file at all, every checkpoint is checked so.
 */
function verifyWithOwnKey(
  db: ReadableDb,
  own: SigningKey | undefined,
  progress: ProgressLine,
): Promise<AuditVerification> {
  return verifyAuditAsync(db, own ? [own.publicKey] : [], {
    otherKeys: 'chain-only',
    onProgress: (p) => progress.show('verifying', p),
  });
}

async function reportExport(
  io: CliIo,
  file: string,
  v: ExportVerification,
  after?: { file: string; continuity: ExportContinuity },
): Promise<number> {
  if (v.break) {
    const at = v.break.seq === null ? '' : ` at entry ${v.break.seq}`;
    await writeOut(io, `export ${file} BROKEN${at} (${v.break.kind}): ${v.break.message}\n`);
    return 1;
  }
  const c = v.checkpoint!;
  // The seal does not record --since or --until, so its last entry is the log's head or a range's end: named
  // for what it is, with the stamps that show the range.
  const range = v.head
    ? `entries #${v.firstSeq}–#${v.head.seq} stamped ${v.firstTimestamp} to ${v.lastTimestamp}; last entry #${c.seq} ${short(c.entryHash)}…`
    : `no entries: the range is empty (it starts after entry #${c.seq} ${short(c.entryHash)}…);`;
  await writeOut(io, `export ${file} intact: ${v.format}, ${range} signed by ${c.keyId} at ${c.createdAt}\n`);
  if (!after) return 0;
  const k = after.continuity;
  await writeOut(
    io,
    k.ok
      ? `after ${after.file}: ${k.relation}: ${k.message}\n`
      : `after ${after.file}: BROKEN at entry ${k.seq} (${k.kind}): ${k.message}\n`,
  );
  return k.ok ? 0 : 1;
}

/**
 * `--after PREVIOUS`: the export head office verified last from this branch, against which the new one is held
 * (exportContinuity). PREVIOUS is verified first, with the same key; then the new export keeps its hash where
 * PREVIOUS ends, and, when the new one ends earlier, PREVIOUS is read again for its hash where the new one ends.
 */
async function verifyAfter(
  io: CliIo,
  previousPath: string,
  exportPath: string,
  publicKey: KeyObject,
  previousKey?: KeyObject,
): Promise<{ next: ExportVerification; continuity?: ExportContinuity }> {
  if (previousPath === '-') throw problem('--after', 'must be a file: it may be read twice');
  const readPrevious = (hashAt?: number) =>
    verifyExportStream(
      exportSource(previousPath, io, '--after'),
      previousKey ?? publicKey,
      hashAt === undefined ? {} : { hashAt },
    );
  let previous = await readPrevious();
  if (!previous.ok) {
    const b = previous.break!;
    // The branch's key may have been replaced between the two exports: entry hashes do not depend on the key, so
    // the new export can still be held against the one the earlier key sealed.
    const otherKey =
      !previousKey && previous.checkpoint && previous.checkpoint.keyId !== auditPublicKey(publicKey).id
        ? `; if the branch's key was replaced since, give the public key that sealed it with --after-public-key`
        : '';
    throw problem(
      '--after',
      `${previousPath} does not verify with ${previousKey ? '--after-public-key' : 'this --public-key'} (${b.kind}${b.seq === null ? '' : ` at entry ${b.seq}`}: ${b.message}): the new export cannot be held against it${otherKey}`,
    );
  }
  const next = await verifyExportStream(exportSource(exportPath, io), publicKey, {
    hashAt: previous.checkpoint!.seq,
  });
  if (!next.ok) return { next };
  const need = continuityNeeds(previous, next);
  if (need?.export === 'previous') previous = await readPrevious(need.seq);
  return { next, continuity: exportContinuity(previous, next) };
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary:
    'Check the audit log’s hash chain and signed checkpoints, or an export of it (--export - reads it from stdin)',
  usage:
    'branchlens audit verify [--data DIR] [--public-key KEY]... [--json] | --export FILE|- --public-key KEY [--after PREVIOUS [--after-public-key KEY]] [--json]',
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      ...DATA_OPTION,
      export: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      after: { type: 'string' },
      'after-public-key': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.after !== undefined && values.export === undefined) {
      throw problem('--after', 'holds an export against an earlier one: give the new one with --export FILE');
    }
    if (values['after-public-key'] !== undefined && values.after === undefined) {
      throw problem('--after-public-key', 'is the key of the --after export: give --after PREVIOUS too');
    }
    const keyPaths = values['public-key'] ?? [];
    if (values.export !== undefined) {
      if (keyPaths.length === 0) {
        throw problem(
          '--public-key',
          'an export is verified with the branch’s public key: pass --public-key KEY',
          'missing',
        );
      }
      if (keyPaths.length > 1) {
        throw problem(
          '--public-key',
          `is given ${keyPaths.length} times: an export is sealed by one key, so give the one whose id its seal names (key_id)`,
        );
      }
      const publicKey = publicKeyFromFile(keyPaths[0]!);
      const afterKeyPath = values['after-public-key'];
      const previousKey =
        afterKeyPath === undefined ? undefined : publicKeyFromFile(afterKeyPath, '--after-public-key');
      let result: ExportVerification;
      let continuity: ExportContinuity | undefined;
      try {
        if (values.after !== undefined) {
          ({ next: result, continuity } = await verifyAfter(
            io,
            values.after,
            values.export,
            publicKey,
            previousKey,
          ));
        } else {
          result = await verifyExportStream(exportSource(values.export, io), publicKey);
        }
      } catch (e) {
        if (e instanceof ExportTooLargeError) throw problem('--export', e.message);
        throw e;
      }
      const ok = result.ok && (continuity?.ok ?? true);
      if (values.json) await writeJson(io, continuity ? { ...result, ok, continuity } : result);
      const name = values.export === '-' ? '(standard input)' : values.export;
      if (values.json) return ok ? 0 : 1;
      return await reportExport(
        io,
        name,
        result,
        continuity && values.after !== undefined ? { file: values.after, continuity } : undefined,
      );
    }
    const dataDir = dataDirFrom(values, io, { create: false });
    // The same key given twice is checked once.
    const given = [
      ...new Map(keyPaths.map((p) => auditPublicKey(publicKeyFromFile(p))).map((k) => [k.id, k])).values(),
    ];
    const db = openLog(dataDir, values, io);
    const progress = progressLine(io, !values.json);
    try {
      let result: AuditVerification;
      let keys: KeysUsed;
      if (given.length > 0) {
        result = await verifyWithKeys(db, given, progress);
        keys = { given: given.map((k) => k.id) };
      } else {
        const own = ownSigningKey(
          dataDir,
          'Meanwhile, `branchlens audit verify --public-key FILE` checks the log with the public key head office holds.',
        );
        result = await verifyWithOwnKey(db, own, progress);
        keys = { own: own?.id ?? null };
      }
      progress.clear();
      if (values.json) await writeJson(io, result);
      return values.json ? (result.ok ? 0 : 1) : await reportLog(io, result, keys);
    } finally {
      progress.clear();
      db.close();
    }
  },
};

// As the HTTP API's `since` (a date-time with Z or an offset), plus a plain date read as midnight UTC. Both are
// checked against the calendar, so 2026-02-30 is refused rather than rolled over to March.
const sinceSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/**
 * A --since/--until value as the time it names. Entries are stamped to the millisecond, so a time with finer
 * digits (`…59.9995Z`) is rounded up to the next millisecond: `--since T` then holds exactly the entries stamped
 * at or after T, `--until T` exactly those stamped before it, and the same T ends one range and starts the next
 * with no entry in both or in neither. A time outside the years 0000–9999 in UTC (which a stamp cannot be, and
 * which sorts among them wrongly) is refused.
 */
function parseTime(flag: '--since' | '--until', raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  if (sinceSchema.safeParse(raw).success) {
    const fraction = /\.(\d{3})(\d*)/.exec(raw);
    // Date parses the first three digits and drops the rest.
    let ms = new Date(fraction ? raw.replace(/\.\d+/, `.${fraction[1]}`) : raw).getTime();
    const roundedUp = fraction !== null && /[1-9]/.test(fraction[2]!);
    if (roundedUp) ms += 1;
    const year = new Date(ms).getUTCFullYear();
    if (year < 0 || year > 9999) {
      throw problem(
        flag,
        `"${raw}" falls in the year ${year} in UTC${roundedUp ? ' (rounded up to the next millisecond, as entries are stamped)' : ''}: times must fall in the years 0000–9999 (UTC)`,
      );
    }
    return new Date(ms);
  }
  const day = /^\d{4}-\d{2}-\d{2}/.exec(raw)?.[0];
  throw problem(
    flag,
    day && !z.iso.date().safeParse(day).success
      ? `${day} is not a date on the calendar${raw === day ? '' : `, got "${raw}"`}`
      : `must be an ISO 8601 date (2025-03-01, from midnight UTC) or a date-time with Z or an offset (2025-03-01T09:00:00Z, 2025-03-01T09:00:00+08:00), got "${raw}"`,
  );
}

/**
 * A plain --since/--until date is midnight UTC (docs/audit.md), which on a branch's clock east or west of UTC is
 * another hour, even another day: 2026-10-01 is 08:00 in Beijing, and the night before it falls in the range
 * before. The note says which local time that is, and the date-time that is midnight here.
 */
function plainDateNote(flag: '--since' | '--until', raw: string | undefined): string | null {
  if (raw === undefined || !z.iso.date().safeParse(raw).success) return null;
  const [year, month, day] = raw.split('-').map(Number) as [number, number, number];
  const localMidnight = new Date(year, month - 1, day);
  const utcMidnight = new Date(`${raw}T00:00:00.000Z`);
  if (localMidnight.getTime() === utcMidnight.getTime()) return null;
  // localIso: yyyy-mm-ddThh:mm:ss.sss±hh:mm; the note gives the local time to the minute, the suggestion to the second.
  const here = localIso(utcMidnight);
  return (
    `note: ${flag} ${raw} is midnight UTC, ${here.slice(0, 10)} ${here.slice(11, 16)} on this machine ` +
    `(UTC${utcOffset(utcMidnight)}); for midnight here, give ${flag} ` +
    `${localIso(localMidnight).slice(0, 19)}${utcOffset(localMidnight)}\n`
  );
}

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'Export the audit log (JSONL, CSV or Elasticsearch bulk) with a signed head, for head office',
  usage:
    'branchlens audit export --format jsonl|csv|es-bulk [--since T] [--until T] [--gzip] [--out FILE] [--data DIR]',
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      ...DATA_OPTION,
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      gzip: { type: 'boolean' },
      out: { type: 'string' },
    });
    if (values.format === undefined) {
      throw problem('--format', `is required: one of ${EXPORT_FORMATS.join(', ')}`, 'missing');
    }
    if (!(EXPORT_FORMATS as readonly string[]).includes(values.format)) {
      throw problem('--format', `must be one of ${EXPORT_FORMATS.join(', ')}, got "${values.format}"`);
    }
    const format = values.format as AuditExportFormat;
    checkOutFlag(values.out);
    const since = parseTime('--since', values.since);
    const until = parseTime('--until', values.until);
    if (since && until && until <= since) {
      throw problem(
        '--until',
        until.getTime() === since.getTime() && values.until !== values.since
          ? `must be at least a millisecond after --since (${values.since}), got "${values.until}": entries are stamped to the millisecond, so, rounded up to it, both name the same one and the range would be empty`
          : `must be after --since (${values.since}), got "${values.until}"`,
      );
    }
    // An export of a folder with no audit log would be an empty export signed by a key made for it: a mistyped
    // --data that head office would file as the branch's.
    const dataDir = dataDirFrom(values, io, { create: false });
    if (!existsSync(dbPath(dataDir))) {
      throw problem(
        values.data !== undefined ? '--data' : 'data folder',
        `${dataDir} holds no audit log (no ${DB_FILE}): point --data at the branch's installation`,
      );
    }
    const toStdout = values.out === undefined || namesStandardOutput(values.out);
    const signingKey = loadOrCreateSigningKey(fileSecretStore(dataDir));
    // Not over an export written to the same terminal.
    const progress = progressLine(io, !(toStdout && (io.stdout as NodeJS.WriteStream).isTTY === true));
    const write = async (out: NodeJS.WritableStream) => {
      const db = openWritable(dataDir);
      try {
        // The head's checkpoint is written here: a full disk is said to be full (see withFreeSpaceOnFailure).
        return await withFreeSpaceOnFailure(dataDir, () =>
          exportAudit(db, {
            format,
            gzip: values.gzip === true,
            out,
            signingKey,
            onProgress: (p: AuditExportProgress) => progress.show(p.phase, p),
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
          }),
        );
      } finally {
        progress.clear();
        db.close();
      }
    };
    // The --out file is opened before the head is signed, so an unwritable path leaves no checkpoint behind.
    // Standard output that cannot be written (a closed pipe, a full disk) is exit 1 saying so, as for any command.
    const summary = toStdout
      ? await writeStdout(io, write)
      : await writeOutFlag(values.out!, write, 0o666, dataDir);
    const range =
      summary.firstSeq === null ? 'no entries' : `entries #${summary.firstSeq}–#${summary.lastSeq}`;
    // With the export on stdout (also as --out /dev/stdout), the summary goes to stderr, not into the export.
    const said = `exported ${range} as ${format}${values.gzip ? ' (gzip)' : ''}${values.out ? ` to ${values.out}` : ''}, ${until ? 'range end' : 'head'} #${summary.checkpoint.seq} signed by ${summary.checkpoint.keyId}\n`;
    if (toStdout) io.stderr.write(said);
    else await writeOut(io, said);
    if (summary.otherKeyIds) {
      io.stderr.write(
        `note: earlier checkpoints in this log were signed by ${summary.otherKeyIds.join(', ')}, not by this installation's key ${summary.checkpoint.keyId}: they match the chain, but their signatures can only be checked with the earlier public key${summary.otherKeyIds.length > 1 ? 's' : ''} head office holds. Send head office the new public key (branchlens audit public-key).\n`,
      );
    }
    for (const [flag, raw] of [
      ['--since', values.since],
      ['--until', values.until],
    ] as const) {
      const note = plainDateNote(flag, raw);
      if (note) io.stderr.write(note);
    }
    // Only in a log written before timestamps were kept in order (docs/audit.md, section 5).
    for (const m of summary.misplaced ?? []) {
      const one = m.count === 1;
      const seqs = m.seqs.map((seq) => `#${seq}`).join(', ') + (m.count > m.seqs.length ? ', …' : '');
      io.stderr.write(
        `note: ${one ? `entry ${seqs} is` : `${m.count} entries (${seqs}) are`} stamped before --${m.bound} ${values[m.bound]} but come${one ? 's' : ''} after the first entry stamped at or after it (this log was written before BranchLens kept its timestamps in order), so ${one ? 'it is' : 'they are'} ${m.bound === 'since' ? 'in this export' : 'left to the range that starts there'}: ranges are cut at places in the chain, so adjacent ranges never share or miss an entry.\n`,
      );
    }
    return 0;
  },
};

/**
 * `audit public-key --public-key KEY`: the key id of a public key file head office holds (the id seals and
 * messages name), without a data folder.
 */
async function printKeyId(io: CliIo, values: { data?: string; out?: string; 'public-key'?: string }) {
  for (const flag of ['data', 'out'] as const) {
    if (values[flag] !== undefined) {
      throw problem(
        `--${flag}`,
        `is not used with --public-key, which prints the key id of the given public key file: leave --${flag} out`,
      );
    }
  }
  const { id } = auditPublicKey(publicKeyFromFile(values['public-key']!));
  await writeOut(io, `${id}\n`);
  return 0;
}

export const auditPublicKeyCommand: Command = {
  name: 'audit public-key',
  summary:
    'Print the public key that verifies this branch’s audit checkpoints and exports, or the key id of a public key file (--public-key KEY)',
  usage: 'branchlens audit public-key [--data DIR] [--out FILE] | --public-key KEY',
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      ...DATA_OPTION,
      out: { type: 'string' },
      'public-key': { type: 'string' },
    });
    if (values['public-key'] !== undefined) return await printKeyId(io, values);
    checkOutFlag(values.out);
    // The key of the installation in --data, never one made for the occasion: a key printed for a mistyped or
    // empty folder would be filed by head office as the branch's, and reject every real export.
    const dataDir = dataDirFrom(values, io, { create: false });
    requireInstallation(dataDir, values, io, 'whose key head office needs');
    const key = ownSigningKey(dataDir);
    if (!key) {
      throw problem(
        KEY_FIELD,
        `${fileSecretStore(dataDir).where!(SIGNING_KEY_FILE)} does not exist: this installation has no audit signing key. ` +
          'If it was lost, restore it from a backup of the data folder; if not, BranchLens makes one when it next runs here (the app, serve, explain or audit export), and this command then prints it',
        'missing',
      );
    }
    if (values.out === undefined || namesStandardOutput(values.out)) {
      await writeOut(io, key.publicPem);
      if (values.out !== undefined)
        io.stderr.write(`wrote the audit public key ${key.id} to ${values.out}\n`);
      return 0;
    }
    await writeOutFlag(values.out, (out) => out.write(key.publicPem), 0o644, dataDir);
    await writeOut(io, `wrote the audit public key ${key.id} to ${values.out}\n`);
    return 0;
  },
};

export const AUDIT_COMMANDS: Command[] = [auditVerifyCommand, auditExportCommand, auditPublicKeyCommand];
