// `branchlens models …`: the installed model bundles — list, import, activate, rollback.
import { formatProblems, InputError } from '../../../shared/problems.js';
import { BranchLensService } from '../../core/service.js';
import { withFreeSpaceOnFailure } from '../../core/db/open.js';
import { bundleFolderArg, serviceOptionsFromEnv } from '../service.js';
import {
  DATA_OPTION,
  dataDirFrom,
  parseFlags,
  writeJson,
  writeOut,
  type CliIo,
  type Command,
} from '../command.js';

/**
 * Runs a model command. When the active model itself cannot be loaded (its files changed on disk, say), the
 * model commands still work, since activating or rolling back to another is the way out (see
 * BranchLensService.openForModelChanges); they say why first.
 */
async function withService<T>(
  values: { data?: unknown },
  io: CliIo,
  fn: (s: BranchLensService) => Promise<T>,
): Promise<T> {
  const fromEnv = serviceOptionsFromEnv(io.env); // checked before the data folder is opened
  const { service, unloadable } = await BranchLensService.openForModelChanges({
    ...fromEnv,
    dataDir: dataDirFrom(values, io),
    workers: 0,
  });
  if (unloadable) {
    io.stderr.write(
      `branchlens: the active model cannot be loaded:\n${formatProblems(unloadable)}\n` +
        'The model commands still work: activate another model or roll back (branchlens models --help).\n',
    );
  }
  try {
    // A full disk is said to be full, as it is to the app's other callers.
    return await withFreeSpaceOnFailure(service.dataDir, () => fn(service));
  } finally {
    await service.close();
  }
}

function onePositional(positionals: string[], name: string, hint: string): string {
  if (positionals.length !== 1) throw new InputError([{ field: name, code: 'missing', message: hint }]);
  return positionals[0]!;
}

export const modelsListCommand: Command = {
  name: 'models list',
  summary: 'List installed model bundles; the active one is marked with *.',
  usage: 'branchlens models list [--json] [--data DIR]',
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...DATA_OPTION, json: { type: 'boolean' } });
    const models = await withService(values, io, async (s) => s.listModels());
    if (values.json) await writeJson(io, models);
    else {
      await writeOut(
        io,
        models
          .map(
            (m) =>
              `${m.active ? '*' : ' '} ${m.ref.padEnd(28)} ${m.sha256.slice(0, 12)}  installed ${m.installedAt}\n`,
          )
          .join(''),
      );
    }
    return 0;
  },
};

export const modelsImportCommand: Command = {
  name: 'models import',
  summary: 'Verify a bundle folder (every sha256, the schema, the model) and install it into the data dir.',
  usage: 'branchlens models import DIR [--activate] [--data DIR]',
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, { ...DATA_OPTION, activate: { type: 'boolean' } }, true);
    const dir = bundleFolderArg(
      'DIR',
      onePositional(positionals, 'DIR', 'give the bundle folder to import'),
      'give the bundle folder to import',
    );
    const result = await withService(values, io, (s) => s.importModel(dir, values.activate));
    await writeOut(io, `${result.message}\n`);
    return 0;
  },
};

export const modelsActivateCommand: Command = {
  name: 'models activate',
  summary:
    'Make an installed model the one that explains (ID@VERSION, or ID when only one version is installed).',
  usage: 'branchlens models activate ID@VERSION [--data DIR]',
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, DATA_OPTION, true);
    const ref = onePositional(
      positionals,
      'ID@VERSION',
      'give the model to activate, e.g. credit-demo@1.0.0',
    );
    const result = await withService(values, io, (s) => s.activateModel(ref));
    await writeOut(io, `${result.message}\n`);
    return 0;
  },
};

export const modelsRollbackCommand: Command = {
  name: 'models rollback',
  summary: 'Return to the previously active model version.',
  usage: 'branchlens models rollback [--data DIR]',
  async run(argv, io) {
    const { values } = parseFlags(argv, DATA_OPTION);
    const result = await withService(values, io, (s) => s.rollbackModel());
    await writeOut(io, `${result.message}\n`);
    return 0;
  },
};

export const MODEL_COMMANDS = [
  modelsListCommand,
  modelsImportCommand,
  modelsActivateCommand,
  modelsRollbackCommand,
];
