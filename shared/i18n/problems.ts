// Problems worded in the user's language from their reason and params (shared/problems.ts), for the UI's error
// sentences and the desktop app's native dialogs. A problem whose reason is unknown here (a newer server's), or
// whose params lack a value its wording needs, keeps the service's English.
import { isProblemReason, PROBLEM_REASONS, type Problem } from '../problems.js';
import { placeholders, type MessageKey, type MessageParams } from './index.js';

/** A message lookup in one language (the UI's `t`, or `translate` bound to a locale). */
export type Translate = (key: MessageKey, params?: MessageParams) => string;

/** The words for the {kind} of not_regular_file, which the service gives in English (main/core/bundle/load.ts). */
const FILE_KINDS: Readonly<Record<string, MessageKey>> = {
  directory: 'fileKind.directory',
  'symbolic link': 'fileKind.symbolic_link',
  FIFO: 'fileKind.fifo',
  socket: 'fileKind.socket',
  device: 'fileKind.device',
  'special file': 'fileKind.special_file',
};

/** A problem worded from its reason, or null when it cannot be. */
export function reasonText(problem: Problem, t: Translate): string | null {
  if (!isProblemReason(problem.reason)) return null;
  const key = `reason.${problem.reason}` as const;
  let params = problem.params ?? {};
  const kind = problem.reason === 'not_regular_file' ? params.kind : undefined;
  if (typeof kind === 'string' && Object.prototype.hasOwnProperty.call(FILE_KINDS, kind))
    params = { ...params, kind: t(FILE_KINDS[kind]!) };
  const filled = placeholders(t(key)).every((name) => Object.prototype.hasOwnProperty.call(params, name));
  return filled ? t(key, params) : null;
}

/**
 * Each problem worded from its reason where it can be, else as `field: message`; null when none can be (the
 * caller then shows the service's own sentence). `bundle`: no known reason is the registry's, so the problems
 * are a bundle's.
 */
export function wordedProblems(
  problems: readonly Problem[] | undefined,
  t: Translate,
): { lines: string[]; bundle: boolean } | null {
  const worded = (problems ?? []).map((p) => reasonText(p, t));
  if (!problems?.length || worded.every((w) => w === null)) return null;
  return {
    lines: problems.map((p, i) => worded[i] ?? `${p.field}: ${p.message}`),
    bundle: problems.every((p) => !isProblemReason(p.reason) || PROBLEM_REASONS[p.reason].scope === 'bundle'),
  };
}
