// The user's settings, kept in the database so the desktop app and the branch server remember them.
import type { Locale } from '../../shared/bundle.js';
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../shared/contract.js';
import { minSteps } from '../../shared/explain-options.js';
import type { Problem } from '../../shared/problems.js';
import { openReadable, type ReadableDb, type WritableDb } from './db/open.js';

export function readSettings(db: ReadableDb | WritableDb): Settings {
  const rows = db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
  const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
  // A value that no longer validates (an older version's) falls back to its default, key by key.
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(stored)) {
    const candidate = { ...merged, [key]: value };
    if (settingsSchema.safeParse(candidate).success) merged[key] = value;
  }
  const settings = settingsSchema.parse(merged);
  // A combination no request could take (a Riemann rule with one step, stored before it was checked) would fail
  // every request that leaves the steps to the settings: the steps fall back to their default.
  return stepsProblem(settings) ? { ...settings, n_steps: DEFAULT_SETTINGS.n_steps } : settings;
}

/**
 * The settings' steps when too few for their method (a Riemann rule needs two points), as the problem that
 * names them; each setting is valid by itself, so only the pair can be wrong.
 */
export function stepsProblem(settings: Settings): Problem | undefined {
  const min = minSteps(settings.method);
  return settings.n_steps < min
    ? {
        field: 'n_steps',
        code: 'out_of_range',
        message: `must be a whole number ≥ ${min} with ${settings.method} (a Riemann rule needs two points), got ${settings.n_steps}: change the steps with the method`,
      }
    : undefined;
}

/**
 * The settings that decide what an explanation says, which a change of is audited: the method and steps (the
 * attributions) and top-K (what the answer keeps). The language and the theme only word and show it.
 */
const AUDITED_SETTINGS = ['method', 'n_steps', 'top_k'] as const;

/** The audited settings `patch` changes, each as `{ from, to }`; undefined when it changes none. */
export function auditedChanges(
  current: Settings,
  patch: Partial<Settings>,
): { [key: string]: { from: string | number; to: string | number } } | undefined {
  const changes: { [key: string]: { from: string | number; to: string | number } } = {};
  for (const key of AUDITED_SETTINGS) {
    const to = patch[key];
    if (to !== undefined && to !== current[key]) changes[key] = { from: current[key], to };
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

export function writeSettings(db: WritableDb, patch: Partial<Settings>): Settings {
  const next = settingsSchema.parse({ ...readSettings(db), ...patch });
  const upsert = db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  db.transaction(() => {
    for (const [key, value] of Object.entries(patch))
      if (value !== undefined) upsert.run(key, JSON.stringify(value));
  })();
  return next;
}

/**
 * The settings' locale in `dataDir`'s database, read without opening the service (which may be what failed:
 * the desktop app words its "cannot start" and rollback dialogs with it). undefined when there is no database or
 * it cannot be read; never throws.
 */
export function storedLocale(dataDir: string): Locale | undefined {
  let db: ReadableDb | undefined;
  try {
    db = openReadable(dataDir);
    return readSettings(db).locale;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
