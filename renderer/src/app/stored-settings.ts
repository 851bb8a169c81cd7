// The settings last used in this browser profile, kept in localStorage so that the language and theme are right
// from the first paint; the service's copy (getSettings) is the one of record and replaces them once it answers.
import { DEFAULT_SETTINGS, settingsSchema, type Settings } from '../../../shared/contract.js';

export const SETTINGS_STORAGE_KEY = 'branchlens.settings';

/** Parses what localStorage held; anything unusable falls back to the defaults, field by field. */
export function parseStoredSettings(text: string | null): Settings {
  if (!text) return { ...DEFAULT_SETTINGS };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  if (typeof raw !== 'object' || raw === null) return { ...DEFAULT_SETTINGS };
  const out: Settings = { ...DEFAULT_SETTINGS };
  const shape = settingsSchema.shape;
  for (const key of Object.keys(shape) as (keyof Settings)[]) {
    const parsed = shape[key].safeParse((raw as Record<string, unknown>)[key]);
    if (parsed.success) (out as Record<keyof Settings, unknown>)[key] = parsed.data;
  }
  return out;
}

/** What is needed of localStorage (a structural type, so this file runs under test in Node). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function readStoredSettings(storage: Pick<KeyValueStorage, 'getItem'> | undefined): Settings {
  try {
    return parseStoredSettings(storage?.getItem(SETTINGS_STORAGE_KEY) ?? null);
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function writeStoredSettings(
  storage: Pick<KeyValueStorage, 'setItem'> | undefined,
  settings: Settings,
): void {
  try {
    storage?.setItem(SETTINGS_STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Storage may be full or disabled; the service still has the settings.
  }
}
