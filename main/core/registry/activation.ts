// Choosing the active model, and stepping back to the one active before it.
import { because, InputError, type ProblemReason, type ReasonParams } from '../../../shared/problems.js';
import type { WritableDb } from '../db/open.js';
import type { ModelIdentity } from './events.js';
import {
  activationHistory,
  activeModel,
  identity,
  listModels,
  modelRef,
  recordActivation,
  type Activation,
  type ActiveModel,
  type InstalledModel,
  type RegistryContext,
} from './installed-models.js';

export interface ActivationResult {
  /** false when the model was already active. */
  changed: boolean;
  model: InstalledModel;
  previous?: ModelIdentity;
  message: string;
}

function modelProblem<R extends ProblemReason>(
  message: string,
  reason: R,
  params: ReasonParams<R>,
): InputError {
  return new InputError([{ field: 'model', code: 'invalid', message, ...because(reason, params) }]);
}

/** A ref that names no installed model, with the models that are installed. */
function notInstalled(db: WritableDb, ref: string): InputError {
  const installed = listModels(db)
    .map((m) => m.ref)
    .join(', ');
  return installed
    ? modelProblem(
        `${ref} is not installed (installed: ${installed}); import its bundle first`,
        'model_not_installed',
        { ref, installed },
      )
    : modelProblem(
        `${ref} is not installed (no model is installed); import its bundle first`,
        'no_model_installed',
        { ref },
      );
}

/** Resolves "id@version" (or a bare id with a single installed version) to an installed model. */
export function resolveModel(db: WritableDb, ref: string): InstalledModel {
  const at = ref.lastIndexOf('@');
  const id = at < 0 ? ref : ref.slice(0, at);
  const version = at < 0 ? undefined : ref.slice(at + 1);
  const candidates = listModels(db).filter(
    (m) => m.id === id && (version === undefined || m.version === version),
  );
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    const versions = candidates.map((m) => m.version).join(', ');
    throw modelProblem(
      `${id} has several versions installed (${versions}); name one as ${id}@<version>`,
      'model_ambiguous',
      { id, versions },
    );
  }
  throw notInstalled(db, ref);
}

/** A model version as the registry rows name it. */
type VersionRef = Pick<ModelIdentity, 'id' | 'version'>;

/** Whether two registry rows name the same model version. */
function same(a: VersionRef | undefined, b: VersionRef): boolean {
  return a?.id === b.id && a.version === b.version;
}

/** The answer to activating the model that is already active: nothing changes. */
function unchanged(model: InstalledModel): ActivationResult {
  return { changed: false, model, message: `${model.ref} is already the active model` };
}

/**
 * The versions rollback can return to, most recent last: each activation pushes, each rollback pops.
 * Re-activating the model already on top pushes nothing.
 */
export function activationStack(history: readonly Activation[]): Activation[] {
  const stack: Activation[] = [];
  for (const a of history) {
    if (a.reason === 'rollback') {
      stack.pop();
      if (!same(stack.at(-1), a)) stack.push(a);
    } else if (!same(stack.at(-1), a)) {
      stack.push(a);
    }
  }
  return stack;
}

/** Makes `ref` ("id@version") the active model, once `check` (when given) has accepted it. */
export async function activateModel(
  db: WritableDb,
  ref: string,
  { sink, now = () => new Date(), check }: RegistryContext,
): Promise<ActivationResult> {
  const model = resolveModel(db, ref);
  if (same(activeModel(db), model)) return unchanged(model);
  await check?.(model);
  const outcome = db
    .transaction(() => {
      // Read again under the write lock: another process may have changed the registry during the check.
      const again = resolveModel(db, ref);
      const before = activeModel(db);
      // Another call (a double click, a retried request) activated it during the check: nothing to record.
      if (same(before, again)) return unchanged(again);
      recordActivation(db, again, 'activate', now());
      return {
        changed: true,
        model: again,
        previous: before && identity(before),
        message: `${again.ref} is now the active model${before ? ` (was ${before.ref})` : ''}`,
      };
    })
    .immediate();
  if (outcome.changed) {
    await sink.record({
      kind: 'model_activate',
      model: identity(outcome.model),
      previous: outcome.previous,
      reason: 'activate',
    });
  }
  return outcome;
}

/** The active model, and the model rollback would return to. */
function rollbackStep(db: WritableDb): { current: ActiveModel; target: InstalledModel } {
  const current = activeModel(db);
  if (!current) {
    throw modelProblem(
      'no model is active, so there is nothing to roll back; activate one first',
      'no_active_model',
      {},
    );
  }
  const history = activationHistory(db);
  const target = activationStack(history).at(-2);
  if (!target) {
    // The first model activated, back again: the versions activated after it were all rolled back. Not "the only
    // version activated so far", which no longer holds.
    const later = [...new Set(history.map(modelRef))].filter((ref) => ref !== current.ref);
    if (later.length) {
      throw modelProblem(
        `${current.ref} was the first version activated, and the ones activated after it (${later.join(', ')}) were rolled back, so there is no earlier one to roll back to`,
        'rolled_back_to_first',
        { model: current.ref, later: later.join(', ') },
      );
    }
    throw modelProblem(
      `${current.ref} is the only version activated so far, so there is no previous one to roll back to`,
      'no_earlier_model',
      { model: current.ref },
    );
  }
  return { current, target: resolveModel(db, modelRef(target)) };
}

/** Returns to the model that was active before the current one, once `check` (when given) has accepted it. */
export async function rollbackModel(
  db: WritableDb,
  { sink, now = () => new Date(), check }: RegistryContext,
): Promise<ActivationResult & { previous: ModelIdentity }> {
  const planned = rollbackStep(db);
  await check?.(planned.target);
  const outcome = db
    .transaction(() => {
      const { current, target } = rollbackStep(db);
      if (target.ref !== planned.target.ref) {
        throw modelProblem(
          `the active model changed while ${planned.target.ref} was being checked; roll back again`,
          'active_model_changed',
          { model: planned.target.ref },
        );
      }
      recordActivation(db, target, 'rollback', now());
      return {
        changed: true,
        model: target,
        previous: identity(current),
        message: `rolled back from ${current.ref} to ${target.ref}`,
      };
    })
    .immediate();
  await sink.record({ kind: 'model_rollback', model: identity(outcome.model), previous: outcome.previous });
  return outcome;
}
