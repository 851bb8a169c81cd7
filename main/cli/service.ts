// Opens the service for one CLI command: in-process engine, the data dir's database and keys. A command is not a
// session: it leaves no monitoring snapshot when it closes (serve, which runs until stopped, opens its own).
import { statSync } from 'node:fs';
import { InputError } from '../../shared/problems.js';
import { BranchLensService, cacheOptionsFromEnv, type ServiceOptions } from '../core/service.js';

/**
 * The service options the CLI's environment sets ($BRANCHLENS_CACHE_TTL_SECONDS), read from `env` (the
 * command's, which tests give it) and checked before the data folder is opened: a bad value creates nothing.
 */
export function serviceOptionsFromEnv(env: NodeJS.ProcessEnv): Pick<ServiceOptions, 'cache'> {
  return { cache: cacheOptionsFromEnv(env) };
}

export function openService(opts: ServiceOptions): Promise<BranchLensService> {
  return BranchLensService.open({
    workers: 0,
    ...opts,
    monitor: { snapshotOnClose: false, ...opts.monitor },
  });
}

/**
 * A model bundle folder a command hands the service (`--model DIR`, `models import DIR`), checked before the data
 * folder is opened: a path that is no folder is refused naming `field`, and a mistyped one creates nothing. What
 * the folder holds is the bundle loader's to check (its problems name the bundle's files). `empty` says what to
 * give instead of an empty path (a script's unset variable).
 */
export function bundleFolderArg(field: string, raw: string, empty: string): string {
  const refuse = (message: string) => new InputError([{ field, code: 'invalid', message }]);
  if (raw.trim() === '') throw refuse(`is empty: ${empty}`);
  let folder: boolean;
  try {
    folder = statSync(raw).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(
      code === 'ENOENT' ? `${raw} does not exist` : `cannot read ${raw}: ${code ?? (e as Error).message}`,
    );
  }
  if (!folder) {
    throw refuse(
      `${raw} is not a folder: a model bundle is a folder (manifest.json, schema.json, model.json…)`,
    );
  }
  return raw;
}
