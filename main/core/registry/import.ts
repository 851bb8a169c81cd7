// Installing a model bundle into the data dir: verify, copy, verify the copy, then record it.
// The copy is made beside its destination and renamed into place under the write lock, so a crash never
// leaves a half-copied bundle registered. A bundle may hold 1 GiB: it is hashed and copied asynchronously, so
// a service importing one goes on answering its other requests meanwhile.
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { because, InputError } from '../../../shared/problems.js';
import {
  BundleError,
  changedDuringImport,
  readBundle,
  readBundleAsync,
  type BundleFiles,
} from '../bundle/load.js';
import type { WritableDb } from '../db/open.js';
import { BusyError } from '../microbatch.js';
import { heldByAnotherProgram, replaceFileDeps, retryWhileHeld, type ReplaceFileDeps } from '../out-file.js';
import { removeStale } from '../stale-files.js';
import type { ActivationReason, ModelIdentity, RegistryEvent } from './events.js';
import {
  activeModel,
  findModel,
  identity,
  insertModel,
  listModels,
  modelDir,
  modelPath,
  modelRef,
  recordActivation,
  type InstalledModel,
  type RegistryContext,
} from './installed-models.js';

export interface ImportOptions extends RegistryContext {
  /** true: make the model active; false: never; absent: only when no model is active yet. */
  activate?: boolean;
  /**
   * The sha256 the bundle had when the caller checked it (loaded its model): a folder that holds another bundle
   * by the time it is copied is refused (changed_during_import), so what is installed is what was checked.
   */
  sha256?: string;
  /** How the copy is moved into place (tests: Windows refusing while another program holds a file in it). */
  move?: ReplaceFileDeps;
}

export type ImportStatus =
  /** Copied and registered. */
  | 'installed'
  /** Already installed with the same sha256: nothing was done. */
  | 'already_installed'
  /** Already registered, but the installed copy no longer verified: it was copied again. */
  | 'repaired';

export interface ImportResult {
  status: ImportStatus;
  model: InstalledModel;
  /** Whether this import made the model active. */
  activated: boolean;
  previous?: ModelIdentity;
  message: string;
}

async function copyBundle(src: BundleFiles, dest: string): Promise<void> {
  for (const file of [...Object.keys(src.manifest.files), 'manifest.json']) {
    const to = join(dest, file);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(src.dir, file), to);
  }
}

/** Whether the bundle in `dir` verifies and is the bundle `sha256`. */
function installedCopyIsIntact(dir: string, sha256: string): boolean {
  try {
    return readBundle(dir).sha256 === sha256;
  } catch {
    return false;
  }
}

/** installedCopyIsIntact, hashing without holding the thread. */
async function installedCopyVerifies(dir: string, sha256: string): Promise<boolean> {
  return readBundleAsync(dir).then(
    (copy) => copy.sha256 === sha256,
    () => false,
  );
}

const STAGING_PREFIX = '.importing-';

/**
 * How long a staging folder may go unchanged before an import removes it as left by one that was killed (a
 * kill -9, a power cut): long enough that another process's import still copying is never taken for one.
 */
export const STALE_STAGING_MS = 60 * 60_000;

/**
 * Removes the staging folders of killed imports under `<dataDir>/models/<id>/`. Best effort: one that cannot be
 * removed now is tried by the next import.
 */
export function removeStaleStaging(dataDir: string, now = Date.now()): void {
  const root = join(dataDir, 'models');
  try {
    for (const id of readdirSync(root)) {
      removeStale(join(root, id), (name) => name.startsWith(STAGING_PREFIX), STALE_STAGING_MS, now);
    }
  } catch {
    // A models folder that cannot be read now: the next import tries again.
  }
}

/** Copies the verified bundle to a fresh folder beside `finalDir` and verifies the copy. */
async function stageCopy(src: BundleFiles, finalDir: string): Promise<string> {
  const staging = join(dirname(finalDir), `${STAGING_PREFIX}${randomUUID()}`);
  try {
    await copyBundle(src, staging);
    const copy = await readBundleAsync(staging);
    if (copy.sha256 !== src.sha256) throw new BundleError([changedDuringImport()]);
    return staging;
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** The copy could not be moved into place: on Windows, another program holds a file in it (or in the old folder). */
class FolderHeld extends Error {}

function moveIntoPlace(staging: string, finalDir: string, move: ReplaceFileDeps): void {
  // A folder without a row is left over from an interrupted import.
  rmSync(finalDir, { recursive: true, force: true });
  try {
    move.rename(staging, finalDir);
  } catch (e) {
    if (heldByAnotherProgram(e, move.platform)) throw new FolderHeld('held', { cause: e });
    throw e;
  }
}

/** A version's folder name as Windows and macOS compare it: letter case ignored, a trailing dot dropped. */
function folderKey(version: string): string {
  return version.toLowerCase().replace(/\.+$/, '');
}

/**
 * Refuses `id@version` when another installed version of `id` has the same folder there (1.0.0-RC1 and
 * 1.0.0-rc1): installing it would replace that version's files, which would then fail to verify. Refused on
 * every system, so that a data folder holds the same models wherever it is copied.
 */
function refuseSharedFolder(db: WritableDb, id: string, version: string): void {
  // Already installed (both, on a data folder made before this check): re-importing or repairing it is as before.
  if (findModel(db, id, version)) return;
  const other = listModels(db).find(
    (m) => m.id === id && m.version !== version && folderKey(m.version) === folderKey(version),
  );
  if (!other) return;
  const model = modelRef({ id, version });
  throw new InputError([
    {
      field: 'manifest.json: version',
      code: 'invalid',
      message: `${other.ref} is installed, and ${model} differs from it only in letter case or a trailing dot, which Windows and macOS folders do not tell apart; give this bundle another version`,
      ...because('version_folder_taken', { model, installed: other.ref }),
    },
  ]);
}

async function install(
  db: WritableDb,
  dataDir: string,
  srcDir: string,
  activation: { when: 'always' | 'never' | 'if-none-active'; reason: Exclude<ActivationReason, 'rollback'> },
  { sink, now = () => new Date() }: RegistryContext,
  checkedSha256?: string,
  move: ReplaceFileDeps = replaceFileDeps,
): Promise<ImportResult> {
  removeStaleStaging(dataDir);
  const src = await readBundleAsync(srcDir);
  if (checkedSha256 !== undefined && src.sha256 !== checkedSha256)
    throw new BundleError([changedDuringImport()]);
  const { id, version } = src.manifest;
  const ref = modelRef(src.manifest);
  const path = modelPath(id, version);
  const finalDir = modelDir(dataDir, { path });

  refuseSharedFolder(db, id, version);
  const existing = findModel(db, id, version);
  if (existing && existing.sha256 !== src.sha256) {
    const installed = existing.sha256.slice(0, 12);
    const bundle = src.sha256.slice(0, 12);
    throw new InputError([
      {
        field: 'manifest.json: version',
        code: 'invalid',
        message: `${ref} is already installed with a different sha256 (${installed}…, this bundle ${bundle}…); give the changed bundle a new version`,
        ...because('installed_with_other_sha256', { model: ref, installed, bundle }),
      },
    ]);
  }
  const needsCopy = !existing || !(await installedCopyVerifies(finalDir, existing.sha256));
  const staging = needsCopy ? await stageCopy(src, finalDir) : undefined;

  let outcome: Omit<ImportResult, 'message'>;
  try {
    // Windows refuses to move a folder while another program has a file in it open: the antivirus scanning the
    // copy just made, the search indexer. The transaction (which rolls back) is tried again after a pause, a few
    // times; a folder still held is a busy answer, with nothing installed.
    outcome = await retryWhileHeld(
      installNow,
      (e) => e instanceof FolderHeld,
      move.wait,
      () =>
        new BusyError(
          5,
          `cannot install ${ref} now: Windows would not move its folder into place, as another program (an ` +
            'antivirus scan, the search indexer, an Explorer window) has a file in it open; import it again shortly',
        ),
    );
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }

  function installNow(): Omit<ImportResult, 'message'> {
    return db
      .transaction(() => {
        // Checked again under the write lock: another process may have installed it meanwhile.
        refuseSharedFolder(db, id, version);
        const registered = findModel(db, id, version);
        if (registered && registered.sha256 !== src.sha256) {
          throw new InputError([
            {
              field: 'manifest.json: version',
              code: 'invalid',
              message: `${ref} was just installed by another process with a different sha256; give this bundle a new version`,
              ...because('installed_meanwhile_with_other_sha256', { model: ref }),
            },
          ]);
        }
        let status: ImportStatus = 'already_installed';
        // Hashed in this thread (a transaction cannot wait): only when repairing, or racing another import.
        if (staging && !(registered && installedCopyIsIntact(finalDir, registered.sha256))) {
          moveIntoPlace(staging, finalDir, move);
          status = registered ? 'repaired' : 'installed';
        }
        if (!registered) {
          insertModel(db, {
            id,
            version,
            sha256: src.sha256,
            path,
            installedAt: now().toISOString(),
            manifest: src.manifest,
          });
        }
        const model = findModel(db, id, version)!;
        const current = activeModel(db);
        const isActive = current?.id === id && current.version === version;
        const activate =
          !isActive && (activation.when === 'always' || (activation.when === 'if-none-active' && !current));
        if (activate) recordActivation(db, model, activation.reason, now());
        return {
          status,
          model,
          activated: activate,
          previous: activate && current ? identity(current) : undefined,
        };
      })
      .immediate();
  }

  const events: RegistryEvent[] = [];
  if (outcome.status !== 'already_installed')
    events.push({ kind: 'model_import', model: identity(outcome.model) });
  if (outcome.activated) {
    events.push({
      kind: 'model_activate',
      model: identity(outcome.model),
      previous: outcome.previous,
      reason: activation.reason,
    });
  }
  for (const event of events) await sink.record(event);
  return { ...outcome, message: describe(outcome) };
}

function describe({ status, model, activated, previous }: Omit<ImportResult, 'message'>): string {
  const what = {
    installed: `installed ${model.ref} (sha256 ${model.sha256.slice(0, 12)}…)`,
    already_installed: `${model.ref} is already installed with the same sha256; nothing to import`,
    repaired: `${model.ref} was already installed but its files no longer verified; copied them again`,
  }[status];
  if (!activated) return what;
  return `${what}; it is now the active model${previous ? ` (was ${modelRef(previous)})` : ''}`;
}

/**
 * Verifies the bundle in `srcDir` and installs it as `<dataDir>/models/<id>/<version>/`.
 * A bundle that fails verification is refused with its BundleError; the same id@version with another sha256
 * is refused; the same id@version with the same sha256 changes nothing.
 */
export function importBundle(
  db: WritableDb,
  dataDir: string,
  srcDir: string,
  { activate, sha256, move, ...context }: ImportOptions,
): Promise<ImportResult> {
  return install(
    db,
    dataDir,
    srcDir,
    { when: activate === undefined ? 'if-none-active' : activate ? 'always' : 'never', reason: 'import' },
    context,
    sha256,
    move,
  );
}

/** First run: installs and activates the demo bundle when no model is installed. Returns undefined otherwise. */
export async function ensureDemoModel(
  db: WritableDb,
  dataDir: string,
  demoDir: string,
  context: RegistryContext,
): Promise<ImportResult | undefined> {
  const any = db.prepare('SELECT 1 FROM models LIMIT 1').get();
  if (any) return undefined;
  return install(db, dataDir, demoDir, { when: 'if-none-active', reason: 'preinstall' }, context);
}
