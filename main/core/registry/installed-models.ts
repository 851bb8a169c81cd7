// The registry's tables (migration 003): installed models and the activation history.
import { join } from 'node:path';
import type { Manifest } from '../../../shared/bundle.js';
import type { ReadableDb, WritableDb } from '../db/open.js';
import type { ActivationReason, ModelIdentity, RegistrySink } from './events.js';

type AnyDb = ReadableDb | WritableDb;

export interface RegistryContext {
  /** Receives each change after it is committed. */
  sink: RegistrySink;
  now?: () => Date;
  /**
   * Checks that a model can serve (its files load, its engines start) before it is recorded as active; a
   * model it refuses is never recorded, so a refused activation changes nothing.
   */
  check?: (model: InstalledModel) => Promise<void>;
}

export interface InstalledModel extends ModelIdentity {
  /** "id@version". */
  ref: string;
  /** The installed copy, relative to the data dir, '/'-separated. */
  path: string;
  installedAt: string;
  manifest: Manifest;
}

export interface ListedModel extends InstalledModel {
  active: boolean;
}

export interface ActiveModel extends InstalledModel {
  activatedAt: string;
  reason: ActivationReason;
}

export interface Activation {
  seq: number;
  id: string;
  version: string;
  activatedAt: string;
  reason: ActivationReason;
}

interface ModelRow {
  id: string;
  version: string;
  sha256: string;
  path: string;
  installed_at: string;
  manifest: string;
}

export function modelRef(m: { id: string; version: string }): string {
  return `${m.id}@${m.version}`;
}

export function identity(m: ModelIdentity): ModelIdentity {
  return { id: m.id, version: m.version, sha256: m.sha256 };
}

/** Where a model is installed, relative to the data dir. */
export function modelPath(id: string, version: string): string {
  return `models/${id}/${version}`;
}

/** The installed model's bundle folder, ready for loadBundle(). */
export function modelDir(dataDir: string, model: Pick<InstalledModel, 'path'>): string {
  return join(dataDir, ...model.path.split('/'));
}

function fromRow(row: ModelRow): InstalledModel {
  return {
    id: row.id,
    version: row.version,
    ref: modelRef(row),
    sha256: row.sha256,
    path: row.path,
    installedAt: row.installed_at,
    manifest: JSON.parse(row.manifest) as Manifest,
  };
}

export function findModel(db: AnyDb, id: string, version: string): InstalledModel | undefined {
  const row = db
    .prepare<[string, string], ModelRow>('SELECT * FROM models WHERE id = ? AND version = ?')
    .get(id, version);
  return row && fromRow(row);
}

function installedModels(db: AnyDb): InstalledModel[] {
  return db
    .prepare<[], ModelRow>('SELECT * FROM models ORDER BY id, installed_at, version')
    .all()
    .map(fromRow);
}

export function insertModel(db: WritableDb, model: Omit<InstalledModel, 'ref'>): void {
  db.prepare(
    `INSERT INTO models (id, version, sha256, path, installed_at, manifest)
     VALUES (@id, @version, @sha256, @path, @installedAt, @manifest)`,
  ).run({ ...model, manifest: JSON.stringify(model.manifest) });
}

/** Every activation, oldest first. */
export function activationHistory(db: AnyDb): Activation[] {
  return db
    .prepare<[], Activation>(
      `SELECT seq, id, version, activated_at AS activatedAt, reason FROM model_activations ORDER BY seq`,
    )
    .all();
}

export function recordActivation(
  db: WritableDb,
  model: { id: string; version: string },
  reason: ActivationReason,
  at: Date,
): void {
  db.prepare('INSERT INTO model_activations (id, version, activated_at, reason) VALUES (?, ?, ?, ?)').run(
    model.id,
    model.version,
    at.toISOString(),
    reason,
  );
}

/** The model answering requests: the latest activation. */
export function activeModel(db: AnyDb): ActiveModel | undefined {
  const row = db
    .prepare<[], ModelRow & { activated_at: string; reason: ActivationReason }>(
      `SELECT m.*, a.activated_at, a.reason FROM model_activations a
       JOIN models m ON m.id = a.id AND m.version = a.version
       ORDER BY a.seq DESC LIMIT 1`,
    )
    .get();
  return row && { ...fromRow(row), activatedAt: row.activated_at, reason: row.reason };
}

/** Installed models, the active one marked. */
export function listModels(db: AnyDb): ListedModel[] {
  const active = activeModel(db);
  return installedModels(db).map((m) => ({
    ...m,
    active: active !== undefined && m.id === active.id && m.version === active.version,
  }));
}
