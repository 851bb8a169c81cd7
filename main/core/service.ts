// The BranchLens service: the one façade that the CLI, the HTTP server and Electron's IPC all call.
// It validates at the edge, answers from the cache or the engine, builds and signs documents, and audits.
import { performance } from 'node:perf_hooks';
import { readBundle, type BundleFiles } from './bundle/load.js';
import { Preprocessor } from './preprocess.js';
import { resolveTarget, type BaselineChoice, type ExplainOptions } from './engine.js';
import { startRunner, type ExplainRunner } from './runner.js';
import type { BackendName } from './tf/backend.js';
import { ensureDataDir } from './data-dir.js';
import { demoModelDir } from './paths.js';
import { fileSecretStore, loadOrCreateHmacKey, type HmacKey, type SecretStore } from './keys.js';
import { buildDocument } from './records/document.js';
import { signDocument, verifyDocument, type VerifyResult } from './records/watermark.js';
import {
  explainOptionsSchema,
  type ExplainOptionsInput,
  type ExplainRequestOptions,
} from '../../shared/explain-options.js';
import type { ExplanationDocument, ExplanationParams } from '../../shared/explanation.js';
import { InputError, problemsFromZod } from '../../shared/problems.js';

export interface ServiceOptions {
  dataDir: string;
  /** Explain with this bundle instead of the registry's active model. */
  modelDir?: string;
  backend?: BackendName;
  /** 0: one engine in this thread; N: N worker engines. */
  workers?: number;
  secrets?: SecretStore;
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
  return {
    method: o.method,
    n_steps: o.n_steps,
    internal_batch_size: o.internal_batch_size,
    target: targetName,
    baseline: typeof o.baseline === 'string' ? o.baseline : 'custom',
    ...(o.layer !== undefined
      ? { layer: o.layer, attribute_to_layer_inputs: o.attribute_to_layer_inputs }
      : {}),
    top_k: o.top_k,
  };
}

export class BranchLensService {
  private constructor(
    readonly dataDir: string,
    private bundle: BundleFiles,
    private runner: ExplainRunner,
    private preprocessor: Preprocessor,
    readonly hmacKey: HmacKey,
  ) {}

  static async open(opts: ServiceOptions): Promise<BranchLensService> {
    const dataDir = ensureDataDir(opts.dataDir);
    const secrets = opts.secrets ?? fileSecretStore(dataDir);
    const hmacKey = loadOrCreateHmacKey(secrets);
    const modelDir = opts.modelDir ?? demoModelDir();
    const bundle = readBundle(modelDir);
    const runner = await startRunner(modelDir, {
      workers: opts.workers ?? 0,
      ...(opts.backend ? { backend: opts.backend } : {}),
    });
    return new BranchLensService(dataDir, bundle, runner, new Preprocessor(bundle.schema), hmacKey);
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

  /** Explains each applicant; every input problem of every applicant is reported together. */
  async explain(
    applicants: unknown[],
    optionsInput?: ExplainOptionsInput | unknown,
  ): Promise<ExplanationDocument[]> {
    const started = performance.now();
    const options = parseExplainOptions(optionsInput);
    if (applicants.length === 0)
      throw new InputError([{ field: 'applicants', code: 'missing', message: 'holds no applicants' }]);
    const target = resolveTarget(this.schema, options.target);
    const params = documentParams(options, target.name ?? null);
    const results = await this.runner.explain(applicants, engineOptions(options));
    const latencyMs = (performance.now() - started) / applicants.length;
    return results.map((ex) =>
      signDocument(
        buildDocument(ex, {
          schema: this.schema,
          model: this.model,
          params,
          locale: options.locale,
          backend: this.backend,
          latencyMs,
          cache: 'miss',
          maskKey: this.hmacKey.key,
          detail: options.detail,
        }),
        this.hmacKey,
      ),
    );
  }

  async predict(applicants: unknown[]): Promise<number[][]> {
    this.preprocessor.encode(applicants[0]);
    return this.runner.predict(applicants);
  }

  verify(doc: unknown): VerifyResult {
    return verifyDocument(doc, this.hmacKey);
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
