// The BranchLens service: the one façade that the CLI, the HTTP server and Electron's IPC all call.
// It validates at the edge, answers from the cache or the engine, builds and signs documents, and audits.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  BundleError,
  installedCopyChanged,
  installedCopyUnverified,
  readBundleAsync,
  type BundleFiles,
} from './bundle/load.js';
import { Preprocessor } from './preprocess.js';
import {
  checkUnmoved,
  dbPath,
  diskFullSentence,
  freeSpace,
  integrityError,
  isDiskFull,
  NEARLY_FULL_BYTES,
  openWritable,
  storageProblem,
  withFreeSpaceOnFailure,
  type WritableDb,
} from './db/open.js';
import { integrityProblemsInThread } from './integrity-in-thread.js';
import {
  diskCacheOptions,
  ExplanationCache,
  type ExplanationCacheOptions,
} from './cache/explanation-cache.js';
import { DatabaseWriter } from './db/writer.js';
import {
  answerCodec,
  answerOptions,
  explainToText,
  type AnswerBatcher,
  type CachedAnswer,
  type PipelineContext,
} from './explain-pipeline.js';
import type { PinnedBundle } from './engine-load.js';
import { epochNow } from './records/answer.js';
import {
  AuditLog,
  EXPORT_OTHER_KEYS,
  exportAudit,
  type AuditAppender,
  type AuditExportFormat,
  type AuditLogOptions,
} from './audit/index.js';
import { auditEntry, auditPage } from './audit/query.js';
import { readHead } from './audit/store.js';
import { verifyAuditInThread } from './audit/verify-in-thread.js';
import { auditedChanges, readSettings, stepsProblem, writeSettings } from './settings.js';
import {
  Monitor,
  isThinned,
  readReference,
  sampledSeries,
  type MonitorModel,
  type MonitorOptions,
  type SampledRange,
  type SampledSeries,
} from './monitor/index.js';
import { sampledSeriesInThread } from './monitor/series-in-thread.js';
import { pseudonym } from './records/mask.js';
import type { AttributionReference, MonitoringSnapshot } from '../../shared/monitoring.js';
import {
  activeModel,
  listModels,
  modelDir as installedModelDir,
  type InstalledModel,
  type ListedModel,
  type RegistryContext,
} from './registry/installed-models.js';
import { ensureDemoModel, importBundle, type ImportResult } from './registry/import.js';
import { activateModel, rollbackModel, type ActivationResult } from './registry/activation.js';
import type { RegistryEvent } from './registry/events.js';
import { resolveTarget, type BaselineChoice, type ExplainOptions } from './engine.js';
import { startRunner, type ExplainRunner } from './runner.js';
import { BusyError, MicroBatcher, type MicroBatchOptions } from './microbatch.js';
import type { BackendName } from './tf/backend.js';
import { ensureDataDir } from './data-dir.js';
import { demoModelDir } from './paths.js';
import {
  fileSecretStore,
  loadOrCreateHmacKey,
  loadOrCreateSigningKey,
  type HmacKey,
  type SecretStore,
  type SigningKey,
} from './keys.js';
import { verifyDocument, type VerifyResult } from './records/watermark.js';
import {
  explainOptionsSchema,
  type ExplainOptionsInput,
  type ExplainRequestOptions,
} from '../../shared/explain-options.js';
import type { CacheLevel, ExplanationDocument, ExplanationParams } from '../../shared/explanation.js';
import { because, InputError, problemsFromZod, type Problem } from '../../shared/problems.js';
import {
  settingsSchema,
  type AuditEntryView,
  type AuditQuery,
  type AuditVerifyProgressView,
  type AuditVerifyView,
  type HealthView,
  type Settings,
} from '../../shared/contract.js';

/** How far an auditVerify run has got: entries walked, of the head's seq at its start. */
interface VerifyProgress {
  done: number;
  total: number;
  startedAt: number;
}

export interface ServiceOptions {
  dataDir: string;
  /** Explain with this bundle instead of the registry's active model. */
  modelDir?: string;
  backend?: BackendName;
  /** 0: one engine in this thread; N: N worker engines. */
  workers?: number;
  secrets?: SecretStore;
  cache?: ExplanationCacheOptions;
  audit?: AuditLogOptions;
  batching?: MicroBatchOptions;
  monitor?: MonitorOptions;
  /**
   * Where the audit log and the cache's disk level are written: 'thread', a writer thread with its own
   * connection, so that commits never hold up answers; 'inline', this thread. Default: 'thread' with worker
   * engines, 'inline' with the engine in this thread (a one-off CLI command).
   */
  writer?: 'thread' | 'inline';
  /**
   * Applicants being answered at once, cache hits included, from arrival until their audit entries are
   * committed (default 4 × the batcher's queue bound, 16,384). Beyond it explain() is busy: the batcher's bound
   * covers only what waits for an engine, and hits never do.
   */
  maxInProgress?: number;
  /**
   * 'background': once open, the database's integrity check reads all of it in a read thread (checkIntegrity);
   * 'skip': not at all. Default: 'background' with worker engines (serve, the desktop app), 'skip' with the engine
   * in this thread (a one-off CLI command: `branchlens audit verify` runs the check when asked).
   */
  integrityCheck?: 'background' | 'skip';
}

/** The longest disk TTL $BRANCHLENS_CACHE_TTL_SECONDS may set: a year (long-term entries have none at all). */
export const MAX_CACHE_TTL_SECONDS = 365 * 24 * 3600;

/**
 * How often a service checks whether another process on its data folder changed the active model (one indexed
 * query): a `models activate` beside a running app is served within seconds, not after the next restart. The
 * settings are read again as often.
 */
export const REGISTRY_FOLLOW_MS = 5_000;

/**
 * $BRANCHLENS_CACHE_TTL_SECONDS sets the disk cache's TTL (default 1 hour): a whole number of seconds, from 1 to
 * a year. The expiry is stored as whole milliseconds (SQLite refuses 1.0005 s as a REAL in an INTEGER column,
 * after the answer was audited), and 1e16 s would be past any date. Exported for the CLI, which checks it before
 * the data folder is opened.
 */
export function cacheOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ExplanationCacheOptions {
  const raw = env.BRANCHLENS_CACHE_TTL_SECONDS;
  if (raw === undefined) return {};
  const seconds = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_CACHE_TTL_SECONDS)) {
    const shown = raw.length > 24 ? `${raw.slice(0, 20)}…` : raw;
    throw new InputError([
      {
        field: '$BRANCHLENS_CACHE_TTL_SECONDS',
        code: 'invalid',
        message: `must be a whole number of seconds from 1 to ${MAX_CACHE_TTL_SECONDS} (a year), got "${shown}"`,
      },
    ]);
  }
  return { diskTtlMs: seconds * 1000 };
}

export function parseExplainOptions(input: unknown): ExplainRequestOptions {
  const parsed = explainOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) throw new InputError(problemsFromZod(parsed.error));
  return parsed.data;
}

function baselineChoice(b: ExplainRequestOptions['baseline']): BaselineChoice {
  if (b === 'schema') return { kind: 'schema' };
  if (b === 'zeros') return { kind: 'zeros' };
  return { kind: 'applicant', applicant: b };
}

export function engineOptions(o: ExplainRequestOptions): ExplainOptions {
  return {
    method: o.method,
    nSteps: o.n_steps,
    internalBatchSize: o.internal_batch_size,
    baseline: baselineChoice(o.baseline),
    ...(o.target !== undefined ? { target: o.target } : {}),
    ...(o.layer !== undefined ? { layer: { layer: o.layer, toInputs: o.attribute_to_layer_inputs } } : {}),
  };
}

export function documentParams(
  o: ExplainRequestOptions,
  targetName: string | number | null,
): ExplanationParams {
  // Members in RFC 8785 order (see buildDocument).
  return {
    ...(o.layer !== undefined ? { attribute_to_layer_inputs: o.attribute_to_layer_inputs } : {}),
    baseline: typeof o.baseline === 'string' ? o.baseline : 'custom',
    internal_batch_size: o.internal_batch_size,
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    method: o.method,
    n_steps: o.n_steps,
    target: targetName,
    top_k: o.top_k,
  };
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** What the service reports as it works, for metrics and monitoring (listeners must not throw). */
export interface ServiceEvents {
  /** One explain call answered: its latency, how many applicants, and each answer's cache level. */
  explained: [{ latencyMs: number; count: number; levels: CacheLevel[]; backend: string }];
  /** One engine call made by the micro-batcher, with its batch size. */
  batch: [{ size: number }];
}

/** A model ready to serve: its verified bundle, its attribution reference and its running engines. */
interface ModelRuntime {
  bundle: BundleFiles;
  reference: AttributionReference | null;
  runner: ExplainRunner;
}

export class BranchLensService {
  /** explained / batch events: the transports' metrics subscribe here. */
  readonly events = new EventEmitter<ServiceEvents>();
  private readonly batcher: AnswerBatcher;
  /** Answers being computed, by cache key (explain-pipeline.ts: duplicates wait for them). */
  private readonly inFlight = new Map<string, Promise<CachedAnswer | undefined>>();
  private readonly openedAt = performance.now();
  /**
   * Read when needed, kept in step by updateSettings, and read again every REGISTRY_FOLLOW_MS: another process on
   * the data folder (the desktop app beside `serve`) may change them.
   */
  private settings: Settings | undefined;
  /** Set when close() begins: no model is swapped in after it (swapIn). */
  private closing = false;
  /** Set when an answer's audit entry found the disk full, cleared by the next that is written (see health). */
  private diskFull = false;
  private readonly monitor: Monitor<ExplainOptions>;
  /** Stability runs and hourly monitoring snapshots. */
  private readonly monitorTimer: NodeJS.Timeout;
  /** Follows the registry's active model when another process changes it (followRegistry). */
  private readonly registryTimer: NodeJS.Timeout;
  /** Set while followRegistry starts a model: one at a time. */
  private following = false;
  /** Imports, activations and rollbacks under way in this service: followRegistry waits for them to finish. */
  private changingModel = 0;
  /** The sha256 of a registry's active model that followRegistry could not start: not tried again by it. */
  private unfollowable: string | undefined;
  /** Applicants being answered now (hits included), and the most allowed at once (ServiceOptions.maxInProgress). */
  private inProgress = 0;
  private readonly maxInProgress: number;
  /** What the background integrity check found wrong with the database, as a sentence (see health). */
  private damaged: string | undefined;
  /** The audit verification running now (auditVerify), and how far it has got; null when none runs. */
  private verifyRun: { answer: Promise<AuditVerifyView>; progress: VerifyProgress } | null = null;
  /** The background integrity check, settled once it has run (checkIntegrity); undefined when not run. */
  readonly integrityChecked: Promise<void> | undefined;

  private constructor(
    readonly dataDir: string,
    private readonly db: WritableDb,
    readonly hmacKey: HmacKey,
    readonly signingKey: SigningKey,
    private readonly cache: ExplanationCache<CachedAnswer>,
    readonly audit: AuditAppender,
    private readonly opts: ServiceOptions,
    private bundle: BundleFiles,
    private reference: AttributionReference | null,
    private runner: ExplainRunner,
    private preprocessor: Preprocessor,
    private readonly writer: DatabaseWriter | undefined,
  ) {
    this.batcher = new MicroBatcher(
      (items, request) =>
        this.runner.answer(
          items.map((item) => item.applicant),
          items.map((item) => item.timing),
          request,
        ),
      { concurrency: Math.max(1, opts.workers ?? 0), ...opts.batching },
      { onBatch: (size) => this.events.emit('batch', { size }) },
    );
    this.maxInProgress = Math.max(1, opts.maxInProgress ?? 4 * (opts.batching?.maxQueue ?? 4096));
    this.monitor = new Monitor(this.monitorModel(), opts.monitor);
    this.monitorTimer = setInterval(() => void this.monitorTick(), 60_000);
    this.monitorTimer.unref();
    this.registryTimer = setInterval(() => {
      this.settings = undefined;
      void this.followRegistry();
    }, REGISTRY_FOLLOW_MS);
    this.registryTimer.unref();
    const integrityCheck = opts.integrityCheck ?? ((opts.workers ?? 0) > 0 ? 'background' : 'skip');
    if (integrityCheck === 'background') this.integrityChecked = this.checkIntegrity();
  }

  /**
   * Runs the database's integrity check off this thread, once per start of a long-running process, and keeps
   * what it finds for health(), saying it once. Each start rather than "when it has not passed for a day": the
   * server starts when its machine does and the app about once a working day, so that is about as often; a mark
   * of a passed check would have to travel with the file (a backup restored over it must be checked), which means
   * a write to the database at each start; and the check costs no one a wait. Meanwhile a damaged page is found
   * by the request that reads it (a 503 saying so), as it would be between checks. The process cannot end while
   * the check runs (SQLite's check is not interrupted from here), as with an audit verification's thread.
   */
  private async checkIntegrity(): Promise<void> {
    const path = dbPath(this.dataDir);
    try {
      const problems = await integrityProblemsInThread(this.dataDir);
      if (problems.length === 0) return;
      this.damaged = integrityError(path, problems).message;
    } catch (e) {
      // SQLite may stop at a page too damaged to walk, rather than list what is wrong.
      const code = (e as { code?: unknown } | null)?.code;
      if (storageProblem(code, undefined) !== 'damaged') {
        process.emitWarning(`database: the integrity check could not run: ${(e as Error).message}`);
        return;
      }
      this.damaged = integrityError(path, [code as string]).message;
    }
    process.emitWarning(`database: ${this.damaged}`);
  }

  private monitorModel(): MonitorModel {
    const { schema } = this.bundle;
    // Monitoring leaves the core too (/metrics, the dashboard, the stored snapshots): a sensitive feature goes
    // under the pseudonym its documents use, never its name.
    const featureNames = schema.features.map((f) =>
      f.sensitive ? pseudonym(this.hmacKey.key, f.name) : f.name,
    );
    return { ...this.model, schema, reference: this.reference, featureNames };
  }

  /** Runs a due stability check (re-explaining a sample without the cache) and persists a due snapshot. */
  async monitorTick(): Promise<void> {
    // Each on its own: a stability run that fails must not cost the hour its snapshot.
    try {
      // `perturbed`: the sensitivity check's copies may sit off the whole-number grid; the served applicants
      // it also re-explains are valid either way, and are encoded alike.
      await this.monitor.runStabilityIfDue(async (applicants, options) =>
        (
          await this.runner.explain(applicants, {
            ...(options ?? engineOptions(parseExplainOptions({}))),
            perturbed: true,
          })
        ).map((ex) => ex.attributions.map((a) => a.attribution)),
      );
    } catch (e) {
      process.emitWarning(`monitoring: the stability check failed: ${(e as Error).message}`);
    }
    try {
      this.monitor.persistIfDue(this.db, { queueDepth: this.batcher.depth });
    } catch (e) {
      process.emitWarning(`monitoring: the snapshot could not be stored: ${(e as Error).message}`);
    }
  }

  static async open(opts: ServiceOptions): Promise<BranchLensService> {
    const dataDir = ensureDataDir(opts.dataDir);
    const secrets = opts.secrets ?? fileSecretStore(dataDir);
    const hmacKey = loadOrCreateHmacKey(secrets);
    const signingKey = loadOrCreateSigningKey(secrets);
    const db = openWritable(dataDir);
    let writer: DatabaseWriter | undefined;
    try {
      const cacheOptions = { writeBehind: true, ...cacheOptionsFromEnv(), ...opts.cache };
      if ((opts.writer ?? ((opts.workers ?? 0) > 0 ? 'thread' : 'inline')) === 'thread') {
        writer = await DatabaseWriter.start({
          dataDir,
          signingKey,
          cache: diskCacheOptions(cacheOptions),
          ...(opts.audit ? { audit: opts.audit } : {}),
        });
      }
      const audit = writer?.audit ?? new AuditLog(db, signingKey, opts.audit);
      // The demo model is pre-installed on first run, and that installation is audited like any other.
      await ensureDemoModel(db, dataDir, demoModelDir(), {
        sink: { record: (e) => auditRegistry(audit, e) },
      });
      const { bundle, reference, runner } = await BranchLensService.startActive(db, dataDir, opts, hmacKey);
      try {
        const cache = new ExplanationCache(
          db,
          { ...cacheOptions, ...(writer ? { diskWriter: writer.cache } : {}) },
          answerCodec(hmacKey),
        );
        return new BranchLensService(
          dataDir,
          db,
          hmacKey,
          signingKey,
          cache,
          audit,
          opts,
          bundle,
          reference,
          runner,
          new Preprocessor(bundle.schema),
          writer,
        );
      } catch (e) {
        await runner.close(); // its worker threads would keep the process alive
        throw e;
      }
    } catch (e) {
      await writer?.close();
      db.close();
      throw e;
    }
  }

  /**
   * Everything a model needs to serve: its verified bundle (read once by the caller), its attribution
   * reference and running engines. Throws an InputError naming the file at fault when any of them fails,
   * having started nothing.
   */
  /**
   * Starts engines for `bundle` (read and verified), pinned to it: an engine started or restarted later from its
   * folder refuses whatever else the folder then holds. `source` says whose folder it is (see PinnedBundle).
   */
  private static async startModel(
    bundle: BundleFiles,
    opts: ServiceOptions,
    hmacKey: HmacKey,
    source: PinnedBundle['source'] = 'installed',
  ): Promise<ModelRuntime> {
    const reference = readReference(bundle, { installed: source === 'installed' });
    const runner = await startRunner(bundle.dir, {
      workers: opts.workers ?? 0,
      hmacKey,
      ...(opts.backend ? { backend: opts.backend } : {}),
      pinned: { sha256: bundle.sha256, source },
    });
    return { bundle, reference, runner };
  }

  private static async activeBundle(db: WritableDb, dataDir: string): Promise<BundleFiles> {
    const active = activeModel(db);
    if (!active) throw new Error('no model is active: import one with `branchlens models import DIR`');
    return BranchLensService.installedBundle(dataDir, active);
  }

  /**
   * Opens the service for model changes only (list, import, activate, rollback), also when the active model
   * cannot be loaded, since changing the active model is the way out: the service is then opened on the bundled
   * demo model, which the caller must not explain with, and `unloadable` lists why the active model could not
   * be loaded. Activations and rollbacks check the model they change to as always.
   */
  static async openForModelChanges(
    opts: ServiceOptions,
  ): Promise<{ service: BranchLensService; unloadable: readonly Problem[] | null }> {
    try {
      return { service: await BranchLensService.open(opts), unloadable: null };
    } catch (e) {
      if (!(e instanceof BundleError) || opts.modelDir) throw e;
      const service = await BranchLensService.open({ ...opts, workers: 0, modelDir: demoModelDir() });
      return { service, unloadable: e.problems };
    }
  }

  /**
   * The model to serve: opts.modelDir, else the registry's active one. When the active one cannot be loaded
   * (its files changed on disk, say), the refusal also says how to serve another: every front end (the
   * desktop app's dialog, serve, the CLI) shows the same way out.
   */
  private static async startActive(
    db: WritableDb,
    dataDir: string,
    opts: ServiceOptions,
    hmacKey: HmacKey,
  ): Promise<ModelRuntime> {
    if (opts.modelDir) {
      return BranchLensService.startModel(await readBundleAsync(opts.modelDir), opts, hmacKey, 'folder');
    }
    try {
      return await BranchLensService.startModel(
        await BranchLensService.activeBundle(db, dataDir),
        opts,
        hmacKey,
      );
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      throw new BundleError([
        ...e.problems,
        {
          field: 'active model',
          code: 'invalid',
          message:
            'cannot be served; serve another installed one with `branchlens models rollback` or `branchlens models activate ID@VERSION` (see `branchlens models list`)',
          ...because('active_model_unservable', {}),
        },
      ]);
    }
  }

  /**
   * An installed model's bundle, once its copy is checked to still be the bundle that was imported. Hashed without
   * holding the thread (a bundle may hold 1 GiB): an activation, a rollback or following another process's change
   * leaves the service answering meanwhile.
   */
  private static async installedBundle(dataDir: string, model: InstalledModel): Promise<BundleFiles> {
    const bundle = await readBundleAsync(installedModelDir(dataDir, model)).catch((e: unknown) => {
      throw e instanceof BundleError
        ? new BundleError([...e.problems, installedCopyUnverified(model.ref)])
        : e;
    });
    const { sha256 } = bundle;
    if (sha256 !== model.sha256) {
      throw new BundleError([
        installedCopyChanged(model.ref, sha256.slice(0, 12), model.sha256.slice(0, 12)),
      ]);
    }
    return bundle;
  }

  get backend(): BackendName {
    return this.runner.backend;
  }

  get model(): { id: string; version: string; sha256: string } {
    return { id: this.bundle.manifest.id, version: this.bundle.manifest.version, sha256: this.bundle.sha256 };
  }

  get schema(): BundleFiles['schema'] {
    return this.bundle.schema;
  }

  get manifest(): BundleFiles['manifest'] {
    return this.bundle.manifest;
  }

  /**
   * Explains each applicant: cache hits come back as the identical document with meta.cache set, misses are
   * computed in one batch. Every answer, hit or miss, gets its own audit entry before it is returned.
   */
  async explain(
    applicants: unknown[],
    optionsInput?: ExplainOptionsInput | unknown,
  ): Promise<ExplanationDocument[]> {
    return (await this.explainJson(applicants, optionsInput)).map(
      (t) => JSON.parse(t) as ExplanationDocument,
    );
  }

  /**
   * explain(), with each signed document as its JSON text (canonical members, `_meta` first): what a transport
   * sends as it is.
   */
  async explainJson(applicants: unknown[], optionsInput?: ExplainOptionsInput | unknown): Promise<string[]> {
    const startedAt = epochNow();
    const options = parseExplainOptions({
      ...this.settingsDefaults(),
      ...(optionsInput as object | undefined),
    });
    if (applicants.length === 0) {
      throw new InputError([{ field: 'applicants', code: 'missing', message: 'holds no applicants' }]);
    }
    const target = resolveTarget(this.schema, options.target);
    const params = documentParams(options, target.name ?? null);
    // An audit write in this thread that finds the disk full or failing: the free space tells which.
    const { texts, levels } = await withFreeSpaceOnFailure(this.dataDir, () =>
      this.boundInProgress(applicants.length, () =>
        explainToText(
          this.pipeline(),
          applicants,
          options,
          { options: engineOptions(options), answer: answerOptions(options, params) },
          startedAt,
        ),
      ),
    ).catch((e: unknown) => {
      if (isDiskFull(e)) this.diskFull = true;
      throw e;
    });
    this.diskFull = false;
    this.events.emit('explained', {
      latencyMs: epochNow() - startedAt,
      count: texts.length,
      levels,
      backend: this.backend,
    });
    return texts;
  }

  /** Runs `run` for `count` applicants within maxInProgress, counting them until it settles; beyond it, busy. */
  private async boundInProgress<T>(count: number, run: () => Promise<T>): Promise<T> {
    if (this.inProgress + count > this.maxInProgress) {
      // At most the time the engines take for all of them at their measured rate (hits drain faster).
      throw new BusyError(this.batcher.retryAfterSeconds(this.inProgress));
    }
    this.inProgress += count;
    try {
      return await run();
    } finally {
      this.inProgress -= count;
    }
  }

  private pipeline(): PipelineContext {
    return {
      modelSha256: this.bundle.sha256,
      activeModelSha256: () => this.bundle.sha256,
      backend: this.backend,
      preprocessor: this.preprocessor,
      cache: this.cache,
      batcher: this.batcher,
      audit: this.audit,
      hmacKey: this.hmacKey,
      monitor: this.monitor,
      inFlight: this.inFlight,
    };
  }

  async predict(applicants: unknown[]): Promise<number[][]> {
    return (await this.predictWithModel(applicants)).predictions;
  }

  /**
   * Predictions with the model that computed them, and its output: the model serving when the call reached an
   * engine, taken at that moment with its engines (an activation may swap the model while the call is queued,
   * and transports must not label old-model numbers with the new model).
   */
  async predictWithModel(applicants: unknown[]): Promise<{
    model: BranchLensService['model'];
    output: BundleFiles['schema']['output'];
    predictions: number[][];
  }> {
    if (applicants.length === 0) {
      throw new InputError([{ field: 'applicants', code: 'missing', message: 'holds no applicants' }]);
    }
    this.preprocessor.encodeAll(applicants, 'caller');
    // Predictions share the explanations' bound: beyond it, busy, rather than an unbounded queue on the engines.
    return this.batcher.admit(applicants.length, async () => {
      const { model, runner } = this;
      const output = this.bundle.schema.output;
      return { model, output, predictions: await runner.predict(applicants) };
    });
  }

  verify(doc: unknown): VerifyResult {
    return verifyDocument(doc, this.hmacKey);
  }

  // ---- models -------------------------------------------------------------------------------------------

  listModels(): ListedModel[] {
    return listModels(this.db);
  }

  private registryContext(check?: RegistryContext['check']): RegistryContext {
    return {
      sink: { record: (e: RegistryEvent) => auditRegistry(this.audit, e) },
      ...(check ? { check } : {}),
    };
  }

  /**
   * Imports a bundle. Its model must load before anything is installed: the bundle's engines are started from
   * the source folder first, so a bundle that could never serve is refused with its problems. They and the
   * install are pinned to the bundle as it was checked: a source folder changed meanwhile is refused, never
   * installed or served. When the import activates it, those engines serve it, restarting (should one stop) from
   * the installed copy, never from the source folder, which may be gone or changed by then; otherwise they stop.
   */
  async importModel(srcDir: string, activate?: boolean): Promise<ImportResult> {
    this.changingModel++;
    try {
      return await this.importModelNow(srcDir, activate);
    } finally {
      this.changingModel--;
    }
  }

  private async importModelNow(srcDir: string, activate?: boolean): Promise<ImportResult> {
    // An import that will activate starts the engines it will serve with, before anything is recorded.
    const serves =
      !this.opts.modelDir && (activate === true || (activate === undefined && !activeModel(this.db)));
    // Hashed without holding the thread: a bundle may hold 1 GiB, and the service answers meanwhile.
    const checked = await readBundleAsync(srcDir);
    let started: ModelRuntime | undefined = await BranchLensService.startModel(
      checked,
      serves ? this.opts : this.trialOptions(),
      this.hmacKey,
      'import',
    );
    try {
      const result = await importBundle(this.db, this.dataDir, srcDir, {
        ...this.registryContext(),
        ...(activate !== undefined ? { activate } : {}),
        sha256: checked.sha256,
      });
      if (result.activated && serves) {
        const installed = installedModelDir(this.dataDir, result.model);
        const next = { ...started, bundle: { ...started.bundle, dir: installed } };
        next.runner.relocate(installed);
        started = undefined;
        await this.swapIn(next);
      } else if (result.activated) {
        await this.serveRegistryActive(); // activated by a race with another process: start it in full
      }
      return result;
    } finally {
      await started?.runner.close();
    }
  }

  async activateModel(ref: string): Promise<ActivationResult> {
    return this.switchModel((context) => activateModel(this.db, ref, context));
  }

  async rollbackModel(): Promise<ActivationResult> {
    return this.switchModel((context) => rollbackModel(this.db, context));
  }

  /**
   * Runs an activation or rollback whose check starts the new model's engines before the registry records
   * anything: a model that cannot serve is refused with its problems, leaving the active model, the registry
   * and the audit log as they were. Once recorded, the started model replaces the current one.
   */
  private async switchModel(
    change: (context: RegistryContext) => Promise<ActivationResult>,
  ): Promise<ActivationResult> {
    let started: ModelRuntime | undefined;
    this.changingModel++;
    try {
      const result = await change(
        this.registryContext(async (model) => {
          started = await BranchLensService.startModel(
            await BranchLensService.installedBundle(this.dataDir, model),
            this.opts.modelDir ? this.trialOptions() : this.opts,
            this.hmacKey,
          );
        }),
      );
      if (result.changed && started && !this.opts.modelDir) {
        const next = started;
        started = undefined; // the service owns it from here, even if stopping the old engines fails
        await this.swapIn(next);
      } else if (!result.changed) {
        // Already active in the registry, but maybe not served here: another process (the CLI beside the app)
        // activated it. Asking for it here serves it, or says why it cannot be.
        await this.serveRegistryActive();
      }
      return result;
    } finally {
      this.changingModel--;
      await started?.runner.close();
    }
  }

  /** Options for starting a model only to check it: one engine thread, or in this thread without workers. */
  private trialOptions(): ServiceOptions {
    return { ...this.opts, workers: Math.min(1, this.opts.workers ?? 0) };
  }

  /**
   * Serves the registry's active model when another process on the data folder (the CLI beside the app or a
   * server) activated, rolled back or imported one: otherwise this service would go on explaining with the model
   * active before while the registry, and the models list, name another. Run every REGISTRY_FOLLOW_MS. A model
   * that cannot be started is not tried again by it (activating it here says why); the current one keeps serving.
   */
  async followRegistry(): Promise<void> {
    // A change this service is making would be started twice: the next tick sees how it ended.
    if (this.following || this.changingModel > 0 || this.closing || this.opts.modelDir) return;
    this.following = true;
    let sha256: string | undefined;
    try {
      sha256 = activeModel(this.db)?.sha256;
      // Nothing changed (the usual tick), or a change it could not serve: no second read, no start.
      if (sha256 === undefined || sha256 === this.bundle.sha256 || sha256 === this.unfollowable) return;
      await this.serveRegistryActive();
    } catch (e) {
      if (!this.closing) {
        this.unfollowable = sha256;
        process.emitWarning(
          `the model another process activated could not be started here (${(e as Error).message}); ` +
            `${this.model.id}@${this.model.version} keeps serving`,
        );
      }
    } finally {
      this.following = false;
    }
  }

  /**
   * Starts the registry's active model and serves it, when this service serves another. It is swapped in only if
   * the registry still names it once started: an activation made meanwhile (here or elsewhere) wins.
   */
  private async serveRegistryActive(): Promise<void> {
    if (this.opts.modelDir || this.closing) return;
    const active = activeModel(this.db);
    if (!active || active.sha256 === this.bundle.sha256) return;
    const next = await BranchLensService.startModel(
      await BranchLensService.installedBundle(this.dataDir, active),
      this.opts,
      this.hmacKey,
    );
    let still = false;
    try {
      still = !this.closing && activeModel(this.db)?.sha256 === next.bundle.sha256;
    } finally {
      if (!still) await next.runner.close();
    }
    if (still) await this.swapIn(next);
  }

  /**
   * Serves `next` from now on: the cache is invalidated, the monitor follows, the old engines stop. Once close()
   * has begun, `next` is stopped instead: close() stops the engines serving at that moment, and engines swapped
   * in after it would be left running (an activation recorded just before the service closed is served at the
   * next start).
   */
  private async swapIn(next: ModelRuntime): Promise<void> {
    if (this.closing || next.bundle.sha256 === this.bundle.sha256) {
      await next.runner.close();
      return;
    }
    const old = this.runner;
    this.bundle = next.bundle;
    this.reference = next.reference;
    this.runner = next.runner;
    this.preprocessor = new Preprocessor(next.bundle.schema);
    this.cache.invalidate(next.bundle.sha256);
    this.monitor.setModel(this.monitorModel());
    await old.close();
  }

  cacheStats() {
    return this.cache.stats();
  }

  // ---- settings -----------------------------------------------------------------------------------------

  getSettings(): Settings {
    return (this.settings ??= readSettings(this.db));
  }

  updateSettings(patch: unknown): Settings {
    const parsed = settingsSchema
      .partial()
      .strict()
      .safeParse(patch ?? {});
    if (!parsed.success) throw new InputError(problemsFromZod(parsed.error));
    // Checked as they would be after the change: settings every request falls back to must be takeable. Against
    // the stored ones, which another process may have changed since they were read here.
    this.settings = readSettings(this.db);
    const problem = stepsProblem({ ...this.settings, ...parsed.data });
    if (problem) throw new InputError([problem]);
    // A change to how explanations are computed or cut (method, steps, top-K) goes into the audit log before it
    // is stored: a failed append leaves the settings as they were, so no change is ever made unlogged.
    const changes = auditedChanges(this.settings, parsed.data);
    if (changes) this.audit.appendSync({ kind: 'settings_change', details: { changes } });
    return (this.settings = writeSettings(this.db, parsed.data));
  }

  /** The explain options the settings supply when a request leaves them out. */
  private settingsDefaults(): Partial<ExplainOptionsInput> {
    const { locale, top_k, method, n_steps } = this.getSettings();
    return { locale, top_k, method, n_steps };
  }

  // ---- audit --------------------------------------------------------------------------------------------

  /**
   * Verifies the whole log, in a thread of its own. One run at a time: a call while one runs (another window, the
   * Audit page opened again) is answered with that run's result, and auditVerifyProgress says how far it has got.
   */
  auditVerify(): Promise<AuditVerifyView> {
    if (this.verifyRun) return this.verifyRun.answer;
    const progress: VerifyProgress = { done: 0, total: 0, startedAt: performance.now() };
    const answer = this.verifyNow(progress).finally(() => {
      this.verifyRun = null;
    });
    this.verifyRun = { answer, progress };
    return answer;
  }

  /** How far the running auditVerify has got (see AuditVerifyProgressView). */
  auditVerifyProgress(): AuditVerifyProgressView {
    const run = this.verifyRun?.progress;
    if (!run) return { running: false };
    return {
      running: true,
      done: run.done,
      total: run.total,
      elapsed_ms: Math.round(performance.now() - run.startedAt),
    };
  }

  private async verifyNow(run: VerifyProgress): Promise<AuditVerifyView> {
    await this.audit.flush();
    run.total = readHead(this.db)?.seq ?? 0;
    // Checkpoints of an earlier key of this installation (a replaced key file) are held against the chain, as
    // `audit verify` and the export hold them: refusing them would show a branch that lost its key a broken log
    // for good. They are named, for head office, which holds the earlier public keys.
    const v = await verifyAuditInThread(this.dataDir, this.signingKey.publicPem, {
      otherKeys: 'chain-only',
      onProgress: (p) => {
        run.done = p.done;
        run.total = p.total;
      },
    });
    return {
      ok: v.ok,
      entries: v.entries,
      checkpoints: v.checkpoints,
      head: v.head ? { seq: v.head.seq, hash: v.head.entryHash } : null,
      ...(v.break ? { break: { seq: v.break.seq, kind: v.break.kind, message: v.break.message } } : {}),
      ...(v.otherKeyIds?.length ? { other_key_ids: v.otherKeyIds } : {}),
    };
  }

  async auditPage(query: AuditQuery): Promise<{ entries: AuditEntryView[]; next_before_seq: number | null }> {
    await this.audit.flush();
    return auditPage(this.db, { ...query, limit: query.limit ?? 50 });
  }

  async auditEntry(seq: number): Promise<AuditEntryView> {
    await this.audit.flush();
    const entry = auditEntry(this.db, seq);
    if (!entry) throw new NotFoundError(`audit entry ${seq} does not exist`);
    return entry;
  }

  /** Exports the audit log (ending with a signed checkpoint) to a file or stream. */
  async auditExport(options: {
    format: AuditExportFormat;
    since?: Date;
    until?: Date;
    gzip?: boolean;
    out: string | NodeJS.WritableStream;
    signal?: AbortSignal;
  }) {
    await this.audit.flush();
    // Checked first, in a thread of its own (callers keep being answered meanwhile): the whole log, or for a
    // range only the stretch between the checkpoints around it (docs/audit.md, section 5).
    const verified = await verifyAuditInThread(
      this.dataDir,
      this.signingKey.publicPem,
      { otherKeys: EXPORT_OTHER_KEYS },
      { since: options.since, until: options.until },
    );
    return exportAudit(this.db, { ...options, signingKey: this.signingKey, verified });
  }

  auditPublicKey(): { pem: string; key_id: string } {
    return { pem: this.signingKey.publicPem, key_id: this.signingKey.id };
  }

  // ---- monitoring ---------------------------------------------------------------------------------------

  monitoringSnapshot(): MonitoringSnapshot {
    return this.monitor.snapshot({ queueDepth: this.batcher.depth });
  }

  /**
   * The stored snapshots in [from, to], thinned evenly to at most `maxPoints` (store.ts `sampledSeries`); a range
   * that is thinned is read and summarised off this thread.
   */
  async monitoringSeries(range: SampledRange): Promise<SampledSeries> {
    if (isThinned(this.db, range)) return sampledSeriesInThread(this.dataDir, range);
    return sampledSeries(this.db, range);
  }

  // ---- health -------------------------------------------------------------------------------------------

  health(): HealthView {
    let database: HealthView['database'] = 'ok';
    try {
      this.db.prepare('SELECT 1').get();
      // A file deleted or replaced under it still answers reads, but nothing written to it would be kept.
      checkUnmoved(this.db);
    } catch {
      database = 'error';
    }
    // Damage the integrity check found: whichever request reads those pages fails.
    if (this.damaged !== undefined) database = 'error';
    // The database answers reads, but with its writer thread stopped no answer can be audited (each fails).
    if (this.writer?.failure) database = 'error';
    // Nor while the disk is full: not ready, so that a load balancer sends the requests elsewhere. The free space
    // is read afresh (statfs is cheap), so that health recovers once space is freed, with no request sent. Free
    // space alone would not do: a process running as root writes into the blocks reserved for root, which
    // statfs does not count as free.
    let free: number | undefined;
    if (database === 'ok' && this.diskFull) {
      free = freeSpace(this.dataDir);
      if (free !== undefined && free < NEARLY_FULL_BYTES) database = 'full';
      else this.diskFull = false;
    }
    return {
      // With no engine running (all stopped, their restart failing), every call is refused as busy: not ready.
      status: database === 'ok' && this.runner.running ? 'ok' : 'degraded',
      model: this.model,
      backend: this.backend,
      database,
      ...(database === 'full' ? { problem: diskFullSentence(free) } : {}),
      ...(database === 'error' && this.damaged !== undefined ? { problem: this.damaged } : {}),
      queue_depth: this.batcher.depth,
      workers: Math.max(1, this.opts.workers ?? 0),
      uptime_s: Math.round((performance.now() - this.openedAt) / 1000),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.monitorTimer);
    clearInterval(this.registryTimer);
    try {
      this.monitor.persistOnClose(this.db, { queueDepth: this.batcher.depth });
    } catch (e) {
      process.emitWarning(`monitoring: the last snapshot could not be stored: ${(e as Error).message}`);
    }
    // Every step runs even when one before it failed (a writer thread that stopped, say), so that the engines,
    // the writer and the database are always released; the first failure is then reported.
    let failure: unknown;
    const step = async (run: () => unknown): Promise<void> => {
      try {
        await run();
      } catch (e) {
        failure ??= e;
      }
    };
    // The engines first: calls in flight finish (their answers then go to the audit log, still open), calls
    // not yet sent are refused with a clear error; none is left waiting.
    await step(() => this.runner.close());
    // The answers whose engine call just finished are written to the audit log in the turns that follow.
    await new Promise((done) => setImmediate(done));
    await step(() => this.cache.flush());
    // The read threads this service started (the start-up integrity check, an audit verification) end first: once
    // close() returns nothing of it reads the folder, nor makes the database's -wal and -shm files again. A
    // verification's failure is its caller's to hear.
    await Promise.allSettled([this.integrityChecked, this.verifyRun?.answer]);
    // The head is signed before the log closes (unless it already is), so that entries cut from the end of a
    // log that was closed in order do not go unnoticed: only a crash or a power cut leaves an unsigned tail.
    try {
      this.audit.checkpoint();
    } catch (e) {
      process.emitWarning(`audit: the closing checkpoint could not be signed: ${(e as Error).message}`);
    }
    await step(() => this.audit.close());
    await step(() => this.writer?.close());
    await step(() => this.db.close());
    if (failure !== undefined) throw failure;
  }
}

async function auditRegistry(audit: AuditAppender, e: RegistryEvent): Promise<void> {
  await audit.append({
    kind: e.kind,
    model: e.model,
    details: {
      ...(e.previous ? { previous: { ...e.previous } } : {}),
      ...('reason' in e ? { reason: e.reason } : {}),
    },
  });
}
