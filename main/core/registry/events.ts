// What the registry reports after each committed change, for the audit log.

export interface ModelIdentity {
  id: string;
  version: string;
  sha256: string;
}

export const ACTIVATION_REASONS = ['import', 'activate', 'rollback', 'preinstall'] as const;
export type ActivationReason = (typeof ACTIVATION_REASONS)[number];

export type RegistryEvent =
  | { kind: 'model_import'; model: ModelIdentity; previous?: undefined }
  | {
      kind: 'model_activate';
      model: ModelIdentity;
      /** The model active before, if any. */
      previous?: ModelIdentity;
      reason: Exclude<ActivationReason, 'rollback'>;
    }
  | { kind: 'model_rollback'; model: ModelIdentity; previous: ModelIdentity };

/** Receives every registry change once it is committed (wired to the audit log). */
export interface RegistrySink {
  record(event: RegistryEvent): void | Promise<void>;
}
