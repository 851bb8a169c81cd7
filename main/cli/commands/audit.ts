// `branchlens audit verify | export | public-key`: checks the audit log (or an export of it), exports it for
// head office, and prints the public key head office verifies exports with.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../../../shared/problems.js';
import {
  EXPORT_FORMATS,
  exportAudit,
  ExportTooLargeError,
  verifyAudit,
  verifyExportStream,
  type AuditExportFormat,
  type AuditVerification,
  type ExportVerification,
} from '../../core/audit/index.js';
import {
  DatabaseError,
  DB_FILE,
  dbPath,
  openReadable,
  openWritable,
  type ReadableDb,
} from '../../core/db/open.js';
import { fileSecretStore, loadOrCreateSigningKey } from '../../core/keys.js';
import {
  DATA_OPTION,
  dataDirFrom,
  dataDirSource,
  parseFlags,
  writeJson,
  writeOut,
  type CliIo,
  type Command,
} from '../command.js';
import { writeOutFile } from '../../core/out-file.js';

const SIGNING_KEY_FILE = 'audit-ed25519.pem';

function problem(field: string, message: string, code: 'invalid' | 'missing' = 'invalid'): InputError {
  return new InputError([{ field, code, message }]);
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw problem(flag, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The export to verify, streamed: a file, or standard input for `-`. */
function exportSource(path: string, io: CliIo): NodeJS.ReadableStream {
  if (path === '-') return io.stdin;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw problem(
      '--export',
      `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw problem('--export', `cannot read ${path}: it is a folder`);
  }
  return createReadStream(path, { fd, highWaterMark: 1024 * 1024 });
}

/** The database to verify; a data folder without one is a bad --data (exit 2), not a broken log (exit 1). */
function openLog(dataDir: string, values: { data?: string }, io: CliIo): ReadableDb {
  try {
    return openReadable(dataDir);
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

function publicKeyFromFile(path: string): KeyObject {
  const bytes = readFlagFile('--public-key', path);
  try {
    return createPublicKey(bytes);
  } catch {
    throw problem(
      '--public-key',
      `${path} is not a PEM public key (get one with \`branchlens audit public-key\`)`,
    );
  }
}

/** The installation's own public key, without creating a key when there is none. */
function localPublicKey(dataDir: string): KeyObject | null {
  const pem = fileSecretStore(dataDir).read(SIGNING_KEY_FILE);
  return pem ? createPublicKey(pem) : null;
}

const short = (hash: string) => hash.slice(0, 16);

async function reportLog(io: CliIo, v: AuditVerification): Promise<number> {
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
      '\n',
  );
  return 0;
}

async function reportExport(io: CliIo, file: string, v: ExportVerification): Promise<number> {
  if (v.break) {
    const at = v.break.seq === null ? '' : ` at entry ${v.break.seq}`;
    await writeOut(io, `export ${file} BROKEN${at} (${v.break.kind}): ${v.break.message}\n`);
    return 1;
  }
  const c = v.checkpoint!;
  const range = v.head ? `entries #${v.firstSeq}–#${v.head.seq}` : 'no entries';
  await writeOut(
    io,
    `export ${file} intact: ${v.format}, ${range}, head #${c.seq} ${short(c.entryHash)}… signed by ${c.keyId} at ${c.createdAt}\n`,
  );
  return 0;
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary:
    'Check the audit log’s hash chain and signed checkpoints, or an export of it (--export - reads it from stdin)',
  usage:
    'branchlens audit verify [--data DIR] [--public-key KEY] [--json] | --export FILE|- --public-key KEY [--json]',
  async run(argv, io) {
    const { values } = parseFlags(argv, {
      ...DATA_OPTION,
      export: { type: 'string' },
      'public-key': { type: 'string' },
      json: { type: 'boolean' },
    });
    const keyPath = values['public-key'];
    if (values.export !== undefined) {
      if (keyPath === undefined) {
        throw problem(
          '--public-key',
          'an export is verified with the branch’s public key: pass --public-key KEY',
          'missing',
        );
      }
      const publicKey = publicKeyFromFile(keyPath);
      let result;
      try {
        result = await verifyExportStream(exportSource(values.export, io), publicKey);
      } catch (e) {
        if (e instanceof ExportTooLargeError) throw problem('--export', e.message);
        throw e;
      }
      if (values.json) await writeJson(io, result);
      const name = values.export === '-' ? '(standard input)' : values.export;
      return values.json ? (result.ok ? 0 : 1) : await reportExport(io, name, result);
    }
    const dataDir = dataDirFrom(values, io, { create: false });
    const publicKey = keyPath === undefined ? localPublicKey(dataDir) : publicKeyFromFile(keyPath);
    const db = openLog(dataDir, values, io);
    try {
      const result = verifyAudit(db, publicKey);
      if (values.json) await writeJson(io, result);
      return values.json ? (result.ok ? 0 : 1) : await reportLog(io, result);
    } finally {
      db.close();
    }
  },
};

// As the HTTP API's `since` (a date-time with Z or an offset), plus a plain date read as midnight UTC. Both are
// checked against the calendar, so 2026-02-30 is refused rather than rolled over to March.
const sinceSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

function parseTime(flag: '--since' | '--until', raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  if (sinceSchema.safeParse(raw).success) return new Date(raw);
  const day = /^\d{4}-\d{2}-\d{2}/.exec(raw)?.[0];
  throw problem(
    flag,
    day && !z.iso.date().safeParse(day).success
      ? `${day} is not a date on the calendar${raw === day ? '' : `, got "${raw}"`}`
      : `must be an ISO 8601 date (2025-03-01, from midnight UTC) or a date-time with Z or an offset (2025-03-01T09:00:00Z, 2025-03-01T09:00:00+08:00), got "${raw}"`,
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
    const since = parseTime('--since', values.since);
    const until = parseTime('--until', values.until);
    if (since && until && until <= since) {
      throw problem('--until', `must be after --since (${values.since}), got "${values.until}"`);
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
    const signingKey = loadOrCreateSigningKey(fileSecretStore(dataDir));
    const write = async (out: NodeJS.WritableStream) => {
      const db = openWritable(dataDir);
      try {
        return await exportAudit(db, {
          format,
          gzip: values.gzip === true,
          out,
          signingKey,
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
        });
      } finally {
        db.close();
      }
    };
    // The --out file is opened before the head is signed, so an unwritable path leaves no checkpoint behind.
    const summary =
      values.out === undefined
        ? await write(io.stdout)
        : await writeOutFile('--out', values.out, write, 0o666, dataDir);
    const range =
      summary.firstSeq === null ? 'no entries' : `entries #${summary.firstSeq}–#${summary.lastSeq}`;
    // With the export on stdout, the summary goes to stderr so that it does not end up in the file.
    const said = `exported ${range} as ${format}${values.gzip ? ' (gzip)' : ''}${values.out ? ` to ${values.out}` : ''}, ${until ? 'range end' : 'head'} #${summary.checkpoint.seq} signed by ${summary.checkpoint.keyId}\n`;
    if (values.out === undefined) io.stderr.write(said);
    else await writeOut(io, said);
    if (summary.otherKeyIds) {
      io.stderr.write(
        `note: earlier checkpoints in this log were signed by ${summary.otherKeyIds.join(', ')}, not by this installation's key ${summary.checkpoint.keyId}: they match the chain, but their signatures can only be checked with the earlier public key${summary.otherKeyIds.length > 1 ? 's' : ''} head office holds. Send head office the new public key (branchlens audit public-key).\n`,
      );
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

export const auditPublicKeyCommand: Command = {
  name: 'audit public-key',
  summary: 'Print the public key that verifies this branch’s audit checkpoints and exports',
  usage: 'branchlens audit public-key [--data DIR] [--out FILE]',
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...DATA_OPTION, out: { type: 'string' } });
    const dataDir = dataDirFrom(values, io);
    const key = loadOrCreateSigningKey(fileSecretStore(dataDir));
    if (values.out === undefined) {
      await writeOut(io, key.publicPem);
      return 0;
    }
    await writeOutFile('--out', values.out, (out) => out.write(key.publicPem), 0o644, dataDir);
    await writeOut(io, `wrote the audit public key ${key.id} to ${values.out}\n`);
    return 0;
  },
};

export const AUDIT_COMMANDS: Command[] = [auditVerifyCommand, auditExportCommand, auditPublicKeyCommand];
