// `branchlens serve`: the HTTP server (Seldon v1 protocol, the app's API, metrics, the UI) until SIGINT/SIGTERM.
import { lookup } from 'node:dns/promises';
import { availableParallelism } from 'node:os';
import { InputError, type Problem } from '../../../shared/problems.js';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../../server/defaults.js';
import { kserveModelNameProblem } from '../../server/kserve.js';
import { limitWarnings, RepeatLimiter } from '../../server/repeat-limit.js';
import type { RunningServer } from '../../server/start.js';
import { DATA_OPTION, dataDirFrom, intFlag, parseFlags, type CliIo, type Command } from '../command.js';
import { modelDirFlag, parseBackend } from './explain.js';
import { serviceOptionsFromEnv } from '../service.js';
import { engineCount } from '../../core/engine-tuning.js';
import { steadyHeapGrowth } from '../../core/heap-growth.js';
import { isDesktopApp, type ServerRecord } from '../../core/data-dir.js';

/** The flags `serve` takes (also read by the deployment tests, which hold the manifests to them). */
export const SERVE_OPTIONS = {
  ...DATA_OPTION,
  host: { type: 'string' },
  port: { type: 'string' },
  workers: { type: 'string' },
  backend: { type: 'string' },
  model: { type: 'string' },
  'model-name': { type: 'string' },
  'token-required': { type: 'boolean' },
  'body-limit': { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

export const USAGE =
  'branchlens serve [--host H] [--port P] [--data DIR] [--workers N] [--backend tensorflow|wasm|cpu] ' +
  '[--model DIR] [--model-name NAME] [--token-required] [--body-limit BYTES] [--request-timeout SECONDS]';

/** The longest `--request-timeout` allowed: one hour for a client to send one request. */
export const MAX_REQUEST_TIMEOUT_S = 3600;

/**
 * `--request-timeout SECONDS`: how long a client may take to send one whole request before it is answered 408
 * (default 30 s). A branch whose link is slow enough that a large CSV batch takes longer raises it; there is no
 * "never", because a client that never finishes would hold its connection for good.
 */
export function requestTimeoutFlag(raw: string | undefined): number {
  const seconds = intFlag('request-timeout', raw, DEFAULT_REQUEST_TIMEOUT_MS / 1000, 1);
  if (seconds > MAX_REQUEST_TIMEOUT_S) {
    throw new InputError([
      {
        field: '--request-timeout',
        code: 'out_of_range',
        message: `must be at most ${MAX_REQUEST_TIMEOUT_S} seconds, got ${seconds}`,
      },
    ]);
  }
  return seconds * 1000;
}

/**
 * `--model-name NAME`, else $BRANCHLENS_MODEL_NAME: a name the KServe routes also answer under, besides the
 * model's bundle id. KServe builds a predictor's paths from its InferenceService's name
 * (`/v1/models/<name>:predict`), so a deployment sets this to that name. The flag wins over the variable; an empty
 * or malformed name is refused naming whichever gave it, before the data folder is opened.
 */
export function modelNameFlag(raw: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const variable = env.BRANCHLENS_MODEL_NAME;
  if (raw === undefined && variable === undefined) return undefined;
  const [field, name] = raw !== undefined ? ['--model-name', raw] : ['$BRANCHLENS_MODEL_NAME', variable!];
  const problem = kserveModelNameProblem(name);
  if (problem) throw new InputError([{ field, code: 'invalid', message: problem }]);
  return name;
}

/**
 * The signals that stop the server: SIGINT (Ctrl-C) and SIGTERM; on Windows also Ctrl-Break (SIGBREAK) and the
 * console window being closed (SIGHUP, after which Windows ends the process within seconds), either of which
 * kills a process that does not listen for it at once: no closing checkpoint for the audit log's tail, no cache
 * flush. Not SIGHUP elsewhere: listening for it would undo `nohup branchlens serve`.
 */
function signalsToStop(platform: NodeJS.Platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
}

/**
 * The stop signals (signalsToStop), listened for from the start: one received while the server starts (Kubernetes
 * deleting a pod that is still starting) closes it once it is up, rather than being lost (node as a container's
 * PID 1 ignores a signal it has no listener for). The first closes the server, letting the requests in flight
 * finish; a second cuts them now; after it the listeners are gone, so a third has the default effect (the process
 * is killed).
 */
export function stopSignals(platform: NodeJS.Platform = process.platform) {
  let received: NodeJS.Signals | undefined;
  let first!: (signal: NodeJS.Signals) => void;
  let again!: (signal: NodeJS.Signals) => void;
  const on = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal;
      first(signal);
    } else {
      stop.dispose();
      again(signal);
    }
  };
  // One listener per signal, each knowing its own name (a listener is not always told it).
  const listeners = signalsToStop(platform).map((signal) => [signal, () => on(signal)] as const);
  const stop = {
    first: new Promise<NodeJS.Signals>((resolve) => (first = resolve)),
    again: new Promise<NodeJS.Signals>((resolve) => (again = resolve)),
    get received() {
      return received;
    },
    dispose() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return stop;
}

/**
 * The note that others use the data folder: servers by pid and port, the desktop app (which has no port) as such.
 * Safe (SQLite locks the database), but what one changes (settings, the active model) the other follows.
 */
export function othersNote(dataDir: string, others: readonly ServerRecord[]): string {
  const share = 'they share its settings, models and audit log.';
  const [only] = others;
  if (others.length === 1 && only && isDesktopApp(only)) {
    return `note: the BranchLens desktop app (pid ${only.pid}) uses ${dataDir}: ${share}`;
  }
  const which = others
    .map((o) => (isDesktopApp(o) ? `the desktop app, pid ${o.pid}` : `pid ${o.pid}, port ${o.port}`))
    .join('; ');
  const who =
    others.length === 1
      ? 'another BranchLens server uses'
      : `${others.length} other BranchLens ${others.some(isDesktopApp) ? 'processes' : 'servers'} use`;
  return `note: ${who} ${dataDir} (${which}): ${share}`;
}

function announce(server: RunningServer, io: CliIo): void {
  if (server.tokenCreated) {
    io.stderr.write(
      `API token (shown this once; kept in ${server.tokenFile ?? 'the key store'}):\n  ${server.token}\n` +
        'Send it as "Authorization: Bearer <token>".\n',
    );
  } else if (server.token) {
    io.stderr.write(
      `Requests need the API token in ${server.tokenFile ?? 'the key store'} ("Authorization: Bearer <token>").\n`,
    );
  }
  if (server.others.length > 0) io.stderr.write(`${othersNote(server.service.dataDir, server.others)}\n`);
  const { model, backend } = server.service;
  io.stdout.write(`BranchLens serving ${server.url} (model ${model.id}@${model.version}, ${backend})\n`);
}

/**
 * The --host/--port problem behind a failed start, when binding the address is what failed; undefined otherwise.
 * Only errors of `listen` and of the host lookup count: an EACCES from opening a key file is no port problem,
 * and its own message names the file.
 */
export function addressProblem(e: unknown, host: string, port: number): Problem | undefined {
  const { code, syscall } = (e ?? {}) as NodeJS.ErrnoException;
  if (syscall !== 'listen' && syscall !== 'getaddrinfo') return undefined;
  const why: Record<string, string> = {
    EADDRINUSE: 'is in use',
    EADDRNOTAVAIL: 'is not an address of this machine',
    ENOTFOUND: 'names no known host',
    EAI_AGAIN: 'names no known host',
    EACCES: 'is not allowed',
  };
  if (code === undefined || !(code in why)) return undefined;
  return {
    field: code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? '--host' : '--port',
    code: 'invalid',
    message: `${host}:${port} ${why[code]}`,
  };
}

/**
 * Checks that `host` names an address, before the data folder is opened: a mistyped --host creates nothing. A
 * name no resolver knows is the --host problem addressProblem words for the server's own lookup (which still
 * says why a listen on a resolved address fails).
 */
export async function checkHost(host: string, port: number): Promise<void> {
  try {
    await lookup(host);
  } catch (e) {
    throw new InputError([
      addressProblem(e, host, port) ?? {
        field: '--host',
        code: 'invalid',
        message: `${host} cannot be resolved: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
}

/**
 * Engine threads: one per core by default. Each holds a model and a wasm heap (~200 MB), so a number far beyond
 * the cores only costs memory: at most 4 per core (and at least 8 allowed, for small machines).
 */
export function workersFlag(raw: string | undefined, cores = availableParallelism()): number {
  return engineCount(raw, '--workers', cores);
}

export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Serve the HTTP API (Seldon v1, KServe V1 and V2, the app API, /metrics) and the UI; Ctrl-C stops it.',
  usage: USAGE,
  async run(argv, io) {
    // The core warns of each failed background write (a cache write, a WAL checkpoint): with the disk full, the
    // same warning thousands of times a minute. A server prints the first, then a count per minute.
    const warnings = new RepeatLimiter();
    const unlimitWarnings = limitWarnings(warnings);
    try {
      return await serve(argv, io);
    } finally {
      unlimitWarnings();
      warnings.close();
    }
  },
};

async function serve(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, SERVE_OPTIONS);
  const port = intFlag('port', values.port, DEFAULT_PORT, 0);
  if (port > 65535) {
    throw new InputError([
      { field: '--port', code: 'out_of_range', message: `must be ≤ 65535, got ${port}` },
    ]);
  }
  const host = values.host ?? DEFAULT_HOST;
  if (host.trim() === '') throw new InputError([{ field: '--host', code: 'invalid', message: 'is empty' }]);
  const backend = parseBackend(values.backend);
  const requestTimeout = requestTimeoutFlag(values['request-timeout']);
  const bodyLimit = intFlag('body-limit', values['body-limit'], DEFAULT_BODY_LIMIT, 1024);
  const workers = workersFlag(values.workers);
  const modelDir = modelDirFlag(values.model);
  const modelName = modelNameFlag(values['model-name'], io.env);
  const fromEnv = serviceOptionsFromEnv(io.env);
  const stop = stopSignals();
  let server: RunningServer;
  try {
    await checkHost(host, port);
    steadyHeapGrowth(); // a process that runs for weeks: a steady RSS over V8's fastest growth
    // Loaded here, so that the other commands do not load the HTTP stack.
    const { startServer } = await import('../../server/start.js');
    server = await startServer({
      ...fromEnv,
      dataDir: dataDirFrom(values, io),
      host,
      port,
      workers,
      bodyLimit,
      requestTimeout,
      tokenRequired: values['token-required'] ?? false,
      ...(backend ? { backend } : {}),
      ...(modelDir !== undefined ? { modelDir } : {}),
      ...(modelName !== undefined ? { modelName } : {}),
    });
  } catch (e) {
    stop.dispose();
    const problem = addressProblem(e, host, port);
    if (problem) throw new InputError([problem]);
    throw e;
  }
  // Whoever reads the URL may stop the server at once: the signals are listened for already. A server stopped
  // while it started is not announced.
  if (stop.received === undefined) announce(server, io);
  const received = await stop.first;
  io.stderr.write(`${received}: closing… (again: cut the requests still in flight)\n`);
  void stop.again.then((signal) => {
    io.stderr.write(`${signal}: cutting the requests still in flight…\n`);
    // The same close, only sooner: its failure is reported where it is awaited below.
    server.close(0).catch(() => undefined);
  });
  try {
    await server.close();
  } finally {
    stop.dispose();
  }
  return 0;
}
