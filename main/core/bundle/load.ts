// Loads a model bundle folder: verifies every file's sha256 against manifest.json, validates schema.json,
// and loads the TensorFlow.js layers model. A broken bundle is refused naming the file and the field.
//
// A bundle comes from anywhere (a USB stick, a shared folder), so nothing in it is trusted before it is checked:
// only regular files are opened (never a FIFO, a device or a symbolic link), none larger than the caps below,
// and the model's topology may not allocate more weight values than its weight files hold.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  statSync,
  type Stats,
} from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { z } from 'zod';
import {
  bundleSchemaSchema,
  inputColumns,
  manifestSchema,
  numberFromInput,
  type BundleSchema,
  type Manifest,
} from '../../../shared/bundle.js';
import { because, formatProblems, InputError, type Problem } from '../../../shared/problems.js';
import { Preprocessor } from '../preprocess.js';
import { declaredWeights, fileLoader, modelJsonSchema, shardPaths, type ModelJson } from './model-io.js';

const MiB = 1024 * 1024;
/** The most one file of a bundle may hold. Checked before the file is read, from its size on disk. */
export const MAX_FILE_BYTES = 512 * MiB;
/** The most the files manifest.json lists may hold together. */
export const MAX_BUNDLE_BYTES = 1024 * MiB;
/** The most a JSON file of a bundle (manifest.json, schema.json, model.json, reference.json) may hold. */
export const MAX_JSON_BYTES = 64 * MiB;
/**
 * The most files and folders a bundle folder may hold, and manifest.json may list: a model of 1 GiB in 4 MiB
 * shards has 256. Beyond it the folder is not a bundle (a home folder picked by mistake, or one built to make the
 * walk and its problem list take the machine's memory), and the walk stops there.
 */
export const MAX_BUNDLE_ENTRIES = 4096;
/** The most weight values model.json may declare: MAX_BUNDLE_BYTES of float32. */
export const MAX_WEIGHT_VALUES = MAX_BUNDLE_BYTES / 4;
/**
 * Files are hashed in pieces of this size, so a large one never sits in memory whole to be hashed, and (read
 * asynchronously) the thread is never held by one for more than about a millisecond.
 */
const PIECE_BYTES = MiB;
/**
 * How bundle files are opened: never following a symbolic link (O_NOFOLLOW: one swapped in after the lstat
 * check fails with ELOOP), and never waiting for a writer (O_NONBLOCK: a FIFO swapped in opens at once, and the
 * fstat check then refuses it). Both are 0 where the platform has no such flag (Windows).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export interface BundleFiles {
  dir: string;
  manifest: Manifest;
  schema: BundleSchema;
  modelJson: ModelJson;
  /** sha256 of manifest.json: it pins every other file, so it identifies the whole bundle. */
  sha256: string;
}

export interface LoadedBundle extends BundleFiles {
  model: tfl.LayersModel;
}

export class BundleError extends InputError {
  constructor(problems: Problem[]) {
    super(problems, `invalid model bundle:\n${formatProblems(problems)}`);
    this.name = 'BundleError';
  }
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

type ZodPath = readonly PropertyKey[];

/** A path as bundle problems name it: `features[0].scaler.std`. */
function bracketPath(path: ZodPath): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Whether `path` names a key its parent object in `raw` does not have. */
function isAbsent(raw: unknown, path: ZodPath): boolean {
  if (path.length === 0) return false;
  let parent: unknown = raw;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  return parent !== null && typeof parent === 'object' && !(path.at(-1)! in parent);
}

/**
 * The problems of a bundle file (`raw`, as read) that its schema refused, each naming the file and the field
 * (by `pathText`) and saying why: a field missing, unknown, or invalid in the schema's words.
 */
export function fileSchemaProblems(
  file: string,
  raw: unknown,
  error: z.ZodError,
  pathText: (path: ZodPath) => string = bracketPath,
): Problem[] {
  return error.issues.map((i): Problem => {
    const path = pathText(i.path);
    const problem = { field: `${file}: ${path || '(root)'}`, code: 'invalid' as const, message: i.message };
    if (i.code === 'unrecognized_keys') {
      const fields = i.keys.map((k) => pathText([...i.path, k])).join(', ');
      return { ...problem, ...because('field_unknown', { file, fields }) };
    }
    if (!path) return { ...problem, ...because('file_invalid', { file, detail: i.message }) };
    if (i.code === 'invalid_type' && isAbsent(raw, i.path)) {
      return { ...problem, ...because('field_missing', { file, path }) };
    }
    return { ...problem, ...because('field_invalid', { file, path, detail: i.message }) };
  });
}

/** What a directory entry is, in words for a problem: `file` is a regular file. */
function kindOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'special file';
}

function notRegularFile(file: string, kind: string): Problem {
  return {
    field: file,
    code: 'invalid',
    message: `is a ${kind}, not a regular file: a bundle holds regular files only`,
    ...because('not_regular_file', { file, kind }),
  };
}

function fileTooLarge(file: string, size: number, limit: number): Problem {
  return {
    field: file,
    code: 'invalid',
    message: `is ${size} bytes, more than the ${limit} a bundle file may hold`,
    ...because('file_too_large', { file, size, limit }),
  };
}

/** An error from the file system, while reading `file` of `dir`, as a BundleError naming the file. */
function fileError(dir: string, file: string, e: unknown): BundleError {
  if (e instanceof BundleError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new BundleError([
      {
        field: file,
        code: 'missing',
        message: `is missing from ${dir}`,
        ...because('file_missing', { file, dir }),
      },
    ]);
  }
  // O_NOFOLLOW on a symbolic link (one put there after the lstat check).
  if (code === 'ELOOP') return new BundleError([notRegularFile(file, 'symbolic link')]);
  const detail = e instanceof Error ? e.message : String(e);
  return new BundleError([
    {
      field: file,
      code: 'invalid',
      message: `cannot be read (${detail})`,
      ...because('file_unreadable', { file, detail }),
    },
  ]);
}

/**
 * Opens `file` of `dir` and hands it to `use` with its size, if it is a regular file of at most `limit` bytes:
 * the type and size are checked with lstat before opening (so a FIFO or a device is never opened) and again
 * with fstat on what was opened (the file may have been swapped meanwhile). Every failure, of these checks or
 * of the file system (in `use` too), is a BundleError naming the file.
 */
function withRegularFile<T>(
  dir: string,
  file: string,
  limit: number,
  use: (fd: number, size: number) => T,
): T {
  const path = join(dir, file);
  let fd: number;
  try {
    regularFileSize(file, limit, lstatSync(path));
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw fileError(dir, file, e);
  }
  try {
    return use(fd, regularFileSize(file, limit, fstatSync(fd)));
  } catch (e) {
    throw fileError(dir, file, e);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing was written: a failed close loses nothing.
    }
  }
}

/** The size of `file`, as `st` gives it, if it is a regular file of at most `limit` bytes; else a BundleError. */
function regularFileSize(file: string, limit: number, st: Stats): number {
  if (!st.isFile()) throw new BundleError([notRegularFile(file, kindOf(st))]);
  if (st.size > limit) throw new BundleError([fileTooLarge(file, st.size, limit)]);
  return st.size;
}

/** withRegularFile with the file read asynchronously (by the thread pool), so this thread is free meanwhile. */
async function withRegularFileAsync<T>(
  dir: string,
  file: string,
  limit: number,
  use: (handle: FileHandle, size: number) => Promise<T>,
): Promise<T> {
  const path = join(dir, file);
  let handle: FileHandle;
  try {
    regularFileSize(file, limit, await lstat(path));
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw fileError(dir, file, e);
  }
  try {
    return await use(handle, regularFileSize(file, limit, await handle.stat()));
  } catch (e) {
    throw fileError(dir, file, e);
  } finally {
    await handle.close().catch(() => {
      // Nothing was written: a failed close loses nothing.
    });
  }
}

/** The problem of an installed copy whose sha256 (`installed`, shortened) is not the one imported. */
export function installedCopyChanged(model: string, installed: string, imported: string): Problem {
  return {
    field: `${model}: manifest.json`,
    code: 'invalid',
    message: `the installed copy (sha256 ${installed}…) is not the bundle that was imported (${imported}…): it was changed on disk; import the bundle again`,
    ...because('installed_copy_changed', { model, installed, imported }),
  };
}

/**
 * Follows the problems of an installed copy that no longer verifies (a file deleted, changed or quarantined on
 * disk): they name files only, which a user would take for the bundle they imported, and not say the way out.
 */
export function installedCopyUnverified(model: string): Problem {
  return {
    field: model,
    code: 'invalid',
    message: 'the installed copy of this model no longer verifies: import its bundle again to repair it',
    ...because('installed_copy_unverified', { model }),
  };
}

/**
 * The problem of a bundle folder that no longer holds the bundle checked when its import began (with the
 * sha256 prefixes when they are known).
 */
export function changedDuringImport(shas?: { found: string; expected: string }): Problem {
  const which = shas ? ` (sha256 ${shas.found}…, checked as ${shas.expected}…)` : '';
  return {
    field: 'manifest.json',
    code: 'invalid',
    message: `changed while the bundle was being imported${which}; import it again`,
    ...because('changed_during_import', {}),
  };
}

/** A listed file whose bytes are not the ones manifest.json lists. */
function shaMismatch(file: string, expected: string, actual: string): Problem {
  return {
    field: file,
    code: 'invalid',
    message: `sha256 ${actual} does not match manifest.json (${expected}); the file was changed`,
    ...because('sha256_mismatch', { file, expected, actual }),
  };
}

/** Reads a bundle file whole (up to the size it had when opened), or a BundleError naming it. */
function readBundleFile(dir: string, file: string, limit = MAX_FILE_BYTES): Buffer {
  return withRegularFile(dir, file, limit, (fd, size) => {
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, null);
      if (n === 0) break;
      at += n;
    }
    return out.subarray(0, at);
  });
}

/** The sha256 of a bundle file, read in pieces of PIECE_BYTES, or a BundleError naming it. */
function hashBundleFile(dir: string, file: string, limit: number): string {
  return withRegularFile(dir, file, limit, (fd, size) => {
    const hash = createHash('sha256');
    const piece = Buffer.allocUnsafe(Math.max(1, Math.min(PIECE_BYTES, size)));
    for (let at = 0; at < size;) {
      const n = readSync(fd, piece, 0, Math.min(piece.length, size - at), null);
      if (n === 0) break;
      hash.update(piece.subarray(0, n));
      at += n;
    }
    return hash.digest('hex');
  });
}

/**
 * A bundle file's sha256, read in pieces of PIECE_BYTES by the thread pool, each hashed as it comes: the thread
 * is free between pieces, so a service importing a bundle of 1 GiB goes on answering. With `keep`, also the
 * bytes hashed (the very ones: the file is read once). Or a BundleError naming the file.
 */
async function readBundleFileAsync(
  dir: string,
  file: string,
  limit: number,
  keep = false,
): Promise<{ sha256: string; bytes?: Buffer }> {
  return withRegularFileAsync(dir, file, limit, async (handle, size) => {
    const hash = createHash('sha256');
    const whole = keep ? Buffer.allocUnsafe(size) : undefined;
    const piece = whole ?? Buffer.allocUnsafe(Math.max(1, Math.min(PIECE_BYTES, size)));
    let at = 0;
    while (at < size) {
      const into = whole ? at : 0;
      const { bytesRead } = await handle.read(piece, into, Math.min(PIECE_BYTES, size - at), null);
      if (bytesRead === 0) break;
      hash.update(piece.subarray(into, into + bytesRead));
      at += bytesRead;
    }
    return { sha256: hash.digest('hex'), ...(whole ? { bytes: whole.subarray(0, at) } : {}) };
  });
}

/** A bundle file's JSON and its bytes, or a BundleError saying it is missing, unreadable or not JSON. */
function readJsonFile(dir: string, file: string): { json: unknown; bytes: Buffer } {
  const bytes = readBundleFile(dir, file, MAX_JSON_BYTES);
  try {
    return { json: JSON.parse(bytes.toString('utf8')), bytes };
  } catch (e) {
    const detail = (e as Error).message;
    throw new BundleError([
      {
        field: file,
        code: 'invalid',
        message: `is not valid JSON (${detail})`,
        ...because('not_json', { file, detail }),
      },
    ]);
  }
}

/** A bundle file's JSON, or a BundleError saying it is missing, unreadable or not JSON. */
export function readJson(dir: string, file: string): unknown {
  return readJsonFile(dir, file).json;
}

interface Entry {
  /** As kindOf words it: `file` for a regular file. */
  kind: string;
  size: number;
}

/**
 * Everything in the bundle folder, by path relative to it (forward slashes), as lstat sees it: a symbolic link
 * is an entry of its own and is not followed, so a link out of the folder or a link loop cannot be walked into.
 */
function listEntries(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const tooMany = (count: number) =>
    new BundleError([
      {
        field: dir,
        code: 'invalid',
        message: `holds ${count} files and folders or more, more than the ${MAX_BUNDLE_ENTRIES} a bundle may hold`,
        ...because('bundle_too_many_files', { count, limit: MAX_BUNDLE_ENTRIES }),
      },
    ]);
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel)).sort();
    } catch (e) {
      throw fileError(dir, rel || '.', e);
    }
    if (out.size + names.length > MAX_BUNDLE_ENTRIES) throw tooMany(out.size + names.length);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      let st: Stats;
      try {
        st = lstatSync(join(dir, path));
      } catch (e) {
        throw fileError(dir, path, e);
      }
      out.set(path, { kind: kindOf(st), size: st.size });
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

/**
 * Reads and verifies the bundle's files without loading the model (used by the registry too), hashing them in
 * this thread: a bundle of 1 GiB holds it for about a second. An import uses readBundleAsync.
 */
export function readBundle(dir: string): BundleFiles {
  const checks = bundleChecks(dir);
  for (let step = checks.next(); ;) {
    if (step.done) return step.value;
    let hashed: string | BundleError;
    try {
      hashed = hashBundleFile(dir, step.value, MAX_FILE_BYTES);
    } catch (e) {
      hashed = refusal(e);
    }
    step = checks.next(hashed);
  }
}

/**
 * readBundle, with each file hashed in pieces read by the thread pool: the thread is never held for more than
 * a piece, so a service importing a large bundle goes on answering its other requests meanwhile.
 */
export async function readBundleAsync(dir: string): Promise<BundleFiles> {
  const checks = bundleChecks(dir);
  for (let step = checks.next(); ;) {
    if (step.done) return step.value;
    const hashed = await readBundleFileAsync(dir, step.value, MAX_FILE_BYTES).then((r) => r.sha256, refusal);
    step = checks.next(hashed);
  }
}

/** A BundleError caught while hashing, to be sent to bundleChecks; any other error is thrown on. */
function refusal(e: unknown): BundleError {
  if (e instanceof BundleError) return e;
  throw e;
}

/**
 * readBundle's checks, one implementation for readBundle and readBundleAsync: the one step that takes time,
 * hashing a listed file, is left to them. It yields the file's path and is sent back its sha256, or the
 * BundleError reading it failed with.
 */
function* bundleChecks(dir: string): Generator<string, BundleFiles, string | BundleError> {
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) {
    throw new BundleError([
      { field: dir, code: 'missing', message: 'is not a folder', ...because('not_a_folder', { dir }) },
    ]);
  }
  const { json: manifestRaw, bytes: manifestBytes } = readJsonFile(dir, 'manifest.json');
  const manifestParsed = manifestSchema.safeParse(manifestRaw);
  if (!manifestParsed.success)
    throw new BundleError(fileSchemaProblems('manifest.json', manifestRaw, manifestParsed.error));
  const manifest = manifestParsed.data;
  const listed = (file: string) => Object.prototype.hasOwnProperty.call(manifest.files, file);
  const listedCount = Object.keys(manifest.files).length;
  if (listedCount > MAX_BUNDLE_ENTRIES) {
    throw new BundleError([
      {
        field: 'manifest.json: files',
        code: 'invalid',
        message: `list ${listedCount} files, more than the ${MAX_BUNDLE_ENTRIES} a bundle may hold`,
        ...because('bundle_too_many_files', { count: listedCount, limit: MAX_BUNDLE_ENTRIES }),
      },
    ]);
  }

  // Every listed file must be a regular file the walk found (so inside the folder: no "..", no absolute path,
  // no symbolic link), within the caps; the caps are checked on the sizes on disk, before anything is read.
  const entries = listEntries(dir);
  const problems: Problem[] = [];
  let total = 0;
  for (const file of Object.keys(manifest.files)) {
    const entry = entries.get(file);
    if (entry?.kind === 'file') total += entry.size;
  }
  const tooLarge = total > MAX_BUNDLE_BYTES;
  if (tooLarge) {
    problems.push({
      field: 'manifest.json: files',
      code: 'invalid',
      message: `list ${total} bytes, more than the ${MAX_BUNDLE_BYTES} a bundle may hold`,
      ...because('bundle_too_large', { size: total, limit: MAX_BUNDLE_BYTES }),
    });
  }
  for (const [file, expected] of Object.entries(manifest.files)) {
    const entry = entries.get(file);
    if (!entry) {
      problems.push({
        field: file,
        code: 'missing',
        message: 'is listed in manifest.json but missing',
        ...because('listed_file_missing', { file }),
      });
      continue;
    }
    if (entry.kind !== 'file') {
      problems.push(notRegularFile(file, entry.kind));
      continue;
    }
    if (entry.size > MAX_FILE_BYTES) {
      problems.push(fileTooLarge(file, entry.size, MAX_FILE_BYTES));
      continue;
    }
    if (tooLarge) continue;
    const actual = yield file;
    if (actual instanceof BundleError) {
      problems.push(...actual.problems);
      continue;
    }
    if (actual !== expected) problems.push(shaMismatch(file, expected, actual));
  }
  for (const [file, entry] of entries) {
    if (entry.kind !== 'directory' && file !== 'manifest.json' && !listed(file)) {
      problems.push({
        field: file,
        code: 'invalid',
        message: 'is not listed in manifest.json files',
        ...because('file_not_listed', { file }),
      });
    }
  }
  for (const required of ['model.json', 'schema.json']) {
    if (!listed(required)) {
      problems.push({
        field: `manifest.json: files.${required}`,
        code: 'missing',
        message: 'is required',
        ...because('required_file_not_listed', { file: required }),
      });
    }
  }
  if (problems.length) throw new BundleError(problems);

  const schemaRaw = readJson(dir, 'schema.json');
  const schemaParsed = bundleSchemaSchema.safeParse(schemaRaw);
  if (!schemaParsed.success)
    throw new BundleError(fileSchemaProblems('schema.json', schemaRaw, schemaParsed.error));
  const schema = schemaParsed.data;
  const encodings = encodingProblems(schema);
  if (encodings.length) throw new BundleError(encodings);
  const baseline = baselineProblems(schema);
  if (baseline.length) throw new BundleError(baseline);

  const modelRaw = readJson(dir, 'model.json');
  const modelJson = modelRaw as ModelJson;
  if (
    !modelJson ||
    typeof modelJson !== 'object' ||
    !modelJson.modelTopology ||
    !Array.isArray(modelJson.weightsManifest)
  ) {
    throw new BundleError([
      {
        field: 'model.json',
        code: 'invalid',
        message: 'must hold modelTopology and weightsManifest (TensorFlow.js layers-model format)',
        ...because('not_layers_model', {}),
      },
    ]);
  }
  if (modelJson.format !== undefined && modelJson.format !== 'layers-model') {
    throw new BundleError([
      {
        field: 'model.json: format',
        code: 'invalid',
        message: `must be "layers-model", got "${String(modelJson.format)}"`,
        ...because('model_format', { format: String(modelJson.format) }),
      },
    ]);
  }
  const modelParsed = modelJsonSchema.safeParse(modelRaw);
  if (!modelParsed.success)
    throw new BundleError(fileSchemaProblems('model.json', modelRaw, modelParsed.error));
  for (const shard of shardPaths(modelJson)) {
    if (!listed(shard)) {
      problems.push({
        field: `model.json: weightsManifest`,
        code: 'invalid',
        message: `shard ${shard} is not listed in manifest.json files`,
        ...because('shard_not_listed', { shard }),
      });
    }
  }
  if (problems.length) throw new BundleError(problems);
  const weights = weightsProblem(modelJson, entries);
  if (weights) throw new BundleError([weights]);
  return { dir, manifest, schema, modelJson, sha256: sha256(manifestBytes) };
}

/** A count for a problem's params: the number, or its text when it is too large to be exact (or infinite). */
function count(n: number): number | string {
  return Number.isSafeInteger(n) ? n : String(n);
}

/**
 * Whether the weights weightsManifest declares fit in a bundle and fill its shards exactly (checked before
 * TensorFlow.js is given the model, so a declared shape of billions of values is never allocated).
 */
function weightsProblem(modelJson: ModelJson, entries: Map<string, Entry>): Problem | null {
  const declared = declaredWeights(modelJson);
  if (!(declared.values <= MAX_WEIGHT_VALUES)) {
    return {
      field: 'model.json: weightsManifest',
      code: 'invalid',
      message: `declares ${count(declared.values)} weight values, more than the ${MAX_WEIGHT_VALUES} a bundle may hold`,
      ...because('weights_too_large', { values: count(declared.values), limit: MAX_WEIGHT_VALUES }),
    };
  }
  const actual = shardPaths(modelJson).reduce((sum, p) => sum + (entries.get(p)?.size ?? 0), 0);
  if (declared.bytes !== actual) {
    return {
      field: 'model.json: weightsManifest',
      code: 'invalid',
      message: `declares weights of ${declared.bytes} bytes, but its shards hold ${actual} bytes`,
      ...because('weights_size_mismatch', { expected: declared.bytes, actual }),
    };
  }
  return null;
}

/** The largest magnitude a float32 holds: the model computes in float32, so a larger input is Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Each numeric feature's values the schema itself gives (impute, range limits, baseline) must encode to a
 * finite float32: a scaler with a tiny std (or a huge mean) would send the model ±Infinity, and every
 * explanation of that feature would fail, after the bundle was installed.
 */
function encodingProblems(schema: BundleSchema): Problem[] {
  const problems: Problem[] = [];
  schema.features.forEach((f, i) => {
    if (f.type !== 'numeric') return;
    const baseline = numberFromInput(schema.baseline[f.name]);
    const values: [string, number | undefined][] = [
      ['impute', f.impute],
      ['range.min', f.range?.min],
      ['range.max', f.range?.max],
      // An invalid baseline value is the engine's to refuse (it encodes the baseline like an applicant).
      ['baseline', baseline !== undefined && Number.isFinite(baseline) ? baseline : undefined],
    ];
    for (const [source, value] of values) {
      if (value === undefined) continue;
      const encoded = (value - f.scaler.mean) / f.scaler.std;
      if (Math.abs(encoded) <= FLOAT32_MAX) continue;
      const shown = Number.isFinite(encoded) ? `${encoded} (beyond float32)` : String(encoded);
      problems.push({
        field: `schema.json: features[${i}].scaler`,
        code: 'not_finite',
        message:
          `${f.name}: ${source} ${value} encodes to ${shown} with mean ${f.scaler.mean} and std ` +
          `${f.scaler.std}; the model cannot take it`,
        // The bare number (a string: JSON has no Infinity): each language's wording says it is past float32's range.
        ...because('encoding_not_finite', { feature: f.name, source, value, encoded: String(encoded) }),
      });
      return;
    }
  });
  return problems;
}

/**
 * The baseline must be an applicant the model takes, as the engine encodes it (every feature given, of its type,
 * in its range): otherwise no engine can start, and the problems name schema.json's baseline and the feature.
 */
function baselineProblems(schema: BundleSchema): Problem[] {
  try {
    new Preprocessor(schema).encode(schema.baseline, 'baseline.');
    return [];
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.problems.map((p) => ({ ...p, field: `schema.json: ${p.field}` }));
  }
}

/** The weight values the model being built by buildModel may still allocate, and what it allocated so far. */
interface WeightBudget {
  left: number;
  readonly limit: number;
  readonly created: tfl.LayerVariable[];
}

const weightBudget = new AsyncLocalStorage<WeightBudget>();

/** A layer asked for more weight values than weightsManifest holds: thrown before they are allocated. */
class TopologyTooLarge extends Error {
  constructor(
    readonly layer: string,
    readonly shape: string,
    readonly limit: number,
  ) {
    super(`layer ${layer} asks for a weight of shape ${shape}, more than the ${limit} values declared`);
  }
}

let budgetInstalled = false;

/**
 * Makes every layer's weight allocation count against the budget of the buildModel it runs under (an
 * AsyncLocalStorage, so concurrent loads and other models being built are not affected; outside a buildModel
 * nothing changes). TensorFlow.js allocates a layer's weights when it builds the topology, before it compares
 * them with the weight data, so a topology with one huge layer (units: 50000000) would take gigabytes first.
 */
function installWeightBudget(): void {
  if (budgetInstalled) return;
  budgetInstalled = true;
  // addWeight(name, shape, dtype?, initializer?, …): protected, and the one way a layer allocates a weight.
  type AddWeight = (
    this: tfl.layers.Layer,
    name: string,
    shape: readonly (number | null)[],
    ...rest: unknown[]
  ) => tfl.LayerVariable;
  const proto = tfl.layers.Layer.prototype as unknown as { addWeight: AddWeight };
  const addWeight = proto.addWeight;
  proto.addWeight = function (this: tfl.layers.Layer, ...args: Parameters<AddWeight>) {
    const budget = weightBudget.getStore();
    if (!budget) return addWeight.apply(this, args);
    const shape = args[1];
    const values = shape.reduce<number>((a, d) => a * (d ?? 0), 1);
    if (values > budget.left) {
      throw new TopologyTooLarge(this.name, `[${shape.map(String).join(', ')}]`, budget.limit);
    }
    budget.left -= Math.max(0, values);
    const variable = addWeight.apply(this, args);
    budget.created.push(variable);
    return variable;
  };
}

/**
 * Has TensorFlow.js build the model from model.json and the shards (read as regular files only), allowing its
 * layers no more weight values than weightsManifest declares: a model that asked for more could not load
 * (strict loading sets every weight from the manifest, and only those).
 */
async function buildModel(files: BundleFiles): Promise<tfl.LayersModel> {
  installWeightBudget();
  const limit = declaredWeights(files.modelJson).values;
  const budget: WeightBudget = { left: limit, limit, created: [] };
  // The shards are read again here: each must still be the file readBundle verified, or a bundle swapped in
  // the meantime would be built from weights no manifest vouches for. The bytes hashed are the bytes loaded.
  const loader = fileLoader(files.modelJson, async (p) => {
    const { sha256: actual, bytes } = await readBundleFileAsync(files.dir, p, MAX_FILE_BYTES, true);
    const expected = files.manifest.files[p];
    if (actual !== expected) throw new BundleError([shaMismatch(p, String(expected), actual)]);
    return bytes!;
  });
  try {
    return await weightBudget.run(budget, () => tfl.loadLayersModel(loader));
  } catch (e) {
    if (e instanceof BundleError) throw e;
    if (e instanceof TopologyTooLarge) {
      budget.created.forEach((v) => v.dispose());
      throw new BundleError([
        {
          field: 'model.json: modelTopology',
          code: 'invalid',
          message: `${e.message} in weightsManifest; TensorFlow.js could not load it`,
          ...because('topology_too_large', { layer: e.layer, shape: e.shape, limit: e.limit }),
        },
      ]);
    }
    const detail = (e as Error).message;
    throw new BundleError([
      {
        field: 'model.json',
        code: 'invalid',
        message: `TensorFlow.js could not load the model: ${detail}`,
        ...because('model_unloadable', { detail }),
      },
    ]);
  }
}

/** Layers that pass their input's values on unchanged (at inference): the activation is the one before. */
const PASS_THROUGH = new Set([
  'Dropout',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'Flatten',
  'Reshape',
]);

/** The activation of the model's output: its last layer's (`softmax` for a Softmax layer), or `none`. */
function outputActivation(model: tfl.LayersModel): string {
  let layer = model.outputs[0]?.sourceLayer;
  for (let hops = 0; layer && hops < 1000; hops++) {
    if (layer instanceof tfl.LayersModel) {
      layer = layer.outputs[0]?.sourceLayer;
      continue;
    }
    if (layer.getClassName() === 'Softmax') return 'softmax';
    const activation = layer.getConfig().activation;
    if (typeof activation === 'string') return activation;
    if (!PASS_THROUGH.has(layer.getClassName())) break;
    layer = layer.inboundNodes[0]?.inboundLayers[0];
  }
  return 'none';
}

/**
 * The inputs the schema itself implies: the encoded baseline, and the baseline with each numeric feature at its
 * impute value and at its range limits. Named for a problem. None when the baseline cannot be encoded (the
 * engine refuses that baseline, naming the feature).
 */
function schemaInputs(schema: BundleSchema): { name: string; vector: number[] }[] {
  const preprocessor = new Preprocessor(schema);
  let base: number[];
  try {
    base = preprocessor.encode(schema.baseline).vector;
  } catch (e) {
    if (e instanceof InputError) return [];
    throw e;
  }
  const out = [{ name: 'baseline', vector: base }];
  for (const f of schema.features) {
    if (f.type !== 'numeric') continue;
    const column = preprocessor.columns.findIndex((c) => c.feature === f.name);
    const extremes: [string, number | undefined][] = [
      ['impute', f.impute],
      ['range.min', f.range?.min],
      ['range.max', f.range?.max],
    ];
    for (const [source, value] of extremes) {
      if (value === undefined) continue;
      const vector = [...base];
      vector[column] = (value - f.scaler.mean) / f.scaler.std;
      out.push({ name: `${f.name} = ${value} (${source})`, vector });
    }
  }
  return out;
}

/**
 * The model's outputs for the schema's own inputs must be finite: a model that answers NaN or ±Infinity there
 * (huge weights, an overflow) would fail every document after it was installed. Reports the first input that
 * fails. Whether a sigmoid or softmax output is a probability is its last activation's matter (loadBundle).
 */
function predictionProblems(model: tfl.LayersModel, schema: BundleSchema): Problem[] {
  const inputs = schemaInputs(schema);
  if (!inputs.length) return [];
  const rows = tf.tidy(() => {
    const x = tf.tensor2d(
      inputs.map((i) => i.vector),
      [inputs.length, inputs[0]!.vector.length],
      'float32',
    );
    return (model.predict(x) as tf.Tensor).arraySync() as number[][];
  });
  for (const [r, row] of rows.entries()) {
    const bad = row.find((v) => !Number.isFinite(v));
    if (bad === undefined) continue;
    const input = inputs[r]!.name;
    return [
      {
        field: 'model.json',
        code: 'not_finite',
        message: `gives ${bad} for the input ${input}: it cannot give a decision`,
        ...because('prediction_not_finite', { input, value: String(bad) }),
      },
    ];
  }
  return [];
}

/** Verifies and loads a bundle, checking that the model's input and output fit the schema. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  return loadBundleFiles(await readBundleAsync(dir));
}

/** loadBundle for a bundle readBundle verified: its weight shards are checked again as they are read. */
export async function loadBundleFiles(files: BundleFiles): Promise<LoadedBundle> {
  const model = await buildModel(files);
  const inputShape = model.inputs[0]?.shape ?? [];
  const width = inputColumns(files.schema).length;
  const outUnits = model.outputs[0]?.shape.at(-1);
  const problems: Problem[] = [];
  if (model.inputs.length !== 1 || inputShape.length !== 2 || inputShape[1] !== width) {
    const shape = `[${inputShape.map(String).join(', ')}]`;
    problems.push({
      field: 'schema.json: features',
      code: 'invalid',
      message: `encode to ${width} model inputs, but model.json expects input shape ${shape}`,
      ...because('input_width_mismatch', { width, shape }),
    });
  }
  const out = files.schema.output;
  const expectedUnits = out.kind === 'softmax' ? out.classes.length : 1;
  if (model.outputs.length !== 1 || outUnits !== expectedUnits) {
    problems.push({
      field: 'schema.json: output',
      code: 'invalid',
      message: `${out.kind} needs ${expectedUnits} output unit(s), but the model has ${String(outUnits)}`,
      ...because('output_units_mismatch', {
        kind: out.kind,
        expected: expectedUnits,
        actual: String(outUnits),
      }),
    });
  }
  // A sigmoid or softmax output is read as a probability (the document words it so): the model's last
  // activation must make it one. A linear output would be stated as an "approval probability" of −4.15.
  if (out.kind !== 'regression' && !problems.some((p) => p.reason === 'output_units_mismatch')) {
    const activation = outputActivation(model);
    if (activation !== out.kind) {
      problems.push({
        field: 'model.json: modelTopology',
        code: 'invalid',
        message: `ends in activation ${activation}, but schema.json's ${out.kind} output needs ${out.kind}: the output would not be a probability`,
        ...because('output_activation_mismatch', { kind: out.kind, activation }),
      });
    }
  }
  // A NaN or infinite weight makes every answer NaN, which no document can hold: refuse the bundle here (at
  // import and activation) rather than fail each explanation later without naming the model.
  for (const w of model.weights) {
    const values = w.read().dataSync();
    const at = values.findIndex((v) => !Number.isFinite(v));
    if (at >= 0) {
      const weight = w.originalName ?? w.name;
      problems.push({
        field: `weights: ${weight}`,
        code: 'not_finite',
        message: `value ${at} is ${values[at]}: a model with a non-finite weight cannot give a probability`,
        ...because('weight_not_finite', { weight, index: at, value: String(values[at]) }),
      });
    }
  }
  if (!problems.length) problems.push(...predictionProblems(model, files.schema));
  if (problems.length) {
    model.dispose();
    throw new BundleError(problems);
  }
  return { ...files, model };
}
