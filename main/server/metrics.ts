// The server's Prometheus metrics, in a registry of its own (several servers can run in one process): HTTP
// requests by route and status, explain latency, cache answers by level and batch sizes from the service's
// events, and gauges read at scrape time (queue depth, database, model, and the monitoring module's attribution
// stability and drift, read tolerantly: a number that is missing or not yet computed is simply not exported).
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  Summary,
  type CollectFunction,
} from 'prom-client';
import type { BranchLensService, ServiceEvents } from '../core/service.js';

type Explained = ServiceEvents['explained'][0];
type Batch = ServiceEvents['batch'][0];

/**
 * A Summary whose quantiles read NaN, not 0, while its sliding window holds no observation (after an idle
 * period): the convention of Prometheus and of its Go and Python clients, so that a dashboard shows a gap rather
 * than a false "0 s". prom-client 15 exports 0 then; whether a series' window is empty is read from prom-client's
 * private state (`hashMap[…].td`, a TimeWindowQuantiles): test/main/server/metrics.test.ts fails if that changes.
 */
class WindowedSummary<T extends string = string> extends Summary<T> {
  override async get(): ReturnType<Summary<T>['get']> {
    const metric = await super.get();
    const series = (this as unknown as { hashMap?: Record<string, PromSummarySeries> }).hashMap ?? {};
    const empty = new Set<string>();
    for (const s of Object.values(series)) {
      if (typeof s.td?.size === 'function' && s.td.size() === 0) empty.add(JSON.stringify(s.labels));
    }
    for (const v of metric.values) {
      const { quantile, ...labels } = v.labels as Record<string, unknown>;
      if (quantile !== undefined && empty.has(JSON.stringify(labels))) v.value = NaN;
    }
    return metric;
  }
}

/** One labelled series of a prom-client Summary, as it keeps it (not part of its API). */
interface PromSummarySeries {
  labels: Record<string, unknown>;
  td?: { size?: () => number };
}

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** What an unknown snapshot holds at `path` (own properties only), or undefined. */
function valueAt(value: unknown, path: readonly string[]): unknown {
  let v: unknown = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, key))
      return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** A finite number at `path` in an unknown snapshot, or undefined. */
export function numberAt(value: unknown, ...path: string[]): number | undefined {
  const v = valueAt(value, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** True when the snapshot has `true` at `path`. */
function flagAt(value: unknown, path: readonly string[]): boolean {
  return valueAt(value, path) === true;
}

function arrayAt(value: unknown, ...path: string[]): unknown[] {
  const v = valueAt(value, path);
  return Array.isArray(v) ? v : [];
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly requestSeconds: Histogram<'method' | 'route'>;
  private readonly latencySummary: Summary;
  private readonly latencyHistogram: Histogram;
  private readonly cacheHits: Counter<'level'>;
  private readonly cacheMisses: Counter;
  private readonly explained: Counter;
  private readonly batchSize: Histogram;
  private readonly feedback: Counter;
  private readonly feedbackReward: Gauge;
  private snapshot?: Promise<unknown>;
  private readonly onExplained = (e: Explained) => this.recordExplained(e);
  private readonly onBatch = (e: Batch) => this.batchSize.observe(e.size);

  constructor(private readonly service: BranchLensService) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.latencySummary = new WindowedSummary({
      name: 'model_explain_latency',
      help: 'Seconds to answer one explain call (any number of applicants), over the last 10 minutes.',
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
    });
    this.latencyHistogram = new Histogram({
      name: 'model_explain_latency_seconds',
      help: 'Seconds to answer one explain call (any number of applicants), as a histogram.',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.explained = new Counter({
      name: 'model_explanations_total',
      help: 'Applicants explained (cache hits included).',
      registers,
    });
    this.cacheHits = new Counter({
      name: 'model_explain_cache_hits_total',
      help: 'Explanations answered from the cache, by level (memory, disk).',
      labelNames: ['level'],
      registers,
    });
    // Both levels are known: exported at 0 from the start, since a series that appears only with its first hit
    // reads as "no data" in a hit ratio and loses that first hit to rate() and increase().
    for (const level of ['memory', 'disk'] as const) this.cacheHits.inc({ level }, 0);
    this.cacheMisses = new Counter({
      name: 'model_explain_cache_misses_total',
      help: 'Explanations computed by the engine (not in the cache).',
      registers,
    });
    this.batchSize = new Histogram({
      name: 'model_explain_batch_size',
      help: 'Applicants per engine call made by the micro-batcher.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    // Seldon's feedback under the names Seldon's Python wrapper gives them (its dashboards read them). The reward's
    // sum is a gauge: a reward may be negative, and a counter cannot go down.
    this.feedback = new Counter({
      name: 'seldon_api_model_feedback_total',
      help: "Seldon feedback messages received (Seldon's /api/v1.0/feedback and /send-feedback).",
      registers,
    });
    this.feedbackReward = new Gauge({
      name: 'seldon_api_model_feedback_reward_total',
      help: 'Sum of the rewards the Seldon feedback messages carried (a missing reward counts 0).',
      registers,
    });
    this.scrapeGauges(registers);
    service.events.on('explained', this.onExplained);
    service.events.on('batch', this.onBatch);
  }

  private recordExplained(e: Explained): void {
    this.latencySummary.observe(e.latencyMs / 1000);
    this.latencyHistogram.observe(e.latencyMs / 1000);
    this.explained.inc(e.count);
    for (const level of e.levels) {
      if (level === 'miss') this.cacheMisses.inc();
      else this.cacheHits.inc({ level });
    }
  }

  /** One monitoring snapshot per scrape, however many gauges read it (text() starts a scrape). */
  private monitoring(): Promise<unknown> {
    this.snapshot ??= Promise.resolve()
      .then(() => this.service.monitoringSnapshot())
      .catch(() => undefined);
    return this.snapshot;
  }

  private scrapeGauges(registers: Registry[]): void {
    const service = this.service;
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      collect: CollectFunction<Gauge<L>>,
    ) => new Gauge<L>({ name, help, labelNames, registers, collect });
    const modelLabel = () => `${service.model.id}@${service.model.version}`;
    const monitoring = () => this.monitoring();

    gauge(
      'model_explain_queue_depth',
      'Applicants queued, being explained or being predicted.',
      [],
      function () {
        this.set(service.health().queue_depth);
      },
    );
    gauge('branchlens_database_up', '1 when the SQLite database answers, 0 when not.', [], function () {
      this.set(service.health().database === 'ok' ? 1 : 0);
    });
    gauge(
      'branchlens_model_info',
      'The model being served (always 1; the labels say which).',
      ['id', 'version', 'sha256', 'backend'],
      function () {
        this.reset();
        const m = service.model;
        this.set({ id: m.id, version: m.version, sha256: m.sha256, backend: service.backend }, 1);
      },
    );

    // Stability and drift, from the monitoring snapshot: a gauge has a sample only when the number exists.
    // A flag at `nonFinite` (NaN or Infinity in the run, which JSON cannot carry) is exported as +Inf, so an
    // alert on "> 0" fires.
    const fromSnapshot = (name: string, help: string, path: string[], nonFinite?: string[]) =>
      gauge(name, help, ['model'], async function () {
        this.reset();
        const snapshot = await monitoring();
        if (nonFinite && flagAt(snapshot, nonFinite)) return this.set({ model: modelLabel() }, Infinity);
        const v = numberAt(snapshot, ...path);
        if (v !== undefined) this.set({ model: modelLabel() }, v);
      });
    fromSnapshot(
      'model_attribution_repeat_max_abs_delta',
      'Largest |served − recomputed| attribution in the last stability run (must be 0; +Inf for NaN).',
      ['stability', 'repeat_max_abs_delta'],
      ['stability', 'repeat_non_finite'],
    );
    fromSnapshot(
      'model_attribution_sensitivity_max',
      'Largest relative attribution change under small perturbations, last stability run (+Inf for NaN).',
      ['stability', 'sensitivity', 'max'],
      ['stability', 'sensitivity', 'non_finite'],
    );
    fromSnapshot(
      'model_attribution_sensitivity_mean',
      'Mean relative attribution change under small perturbations, last stability run.',
      ['stability', 'sensitivity', 'mean'],
    );
    fromSnapshot(
      'model_attribution_drift_js',
      'Jensen–Shannon divergence (base 2) of attribution shares, recent vs reference.',
      ['drift', 'js'],
    );
    fromSnapshot(
      'model_attribution_drift_psi_max',
      'The largest per-feature PSI of attribution shares, recent vs reference.',
      ['drift', 'psi_max'],
    );
    // Per feature: the PSI and JS divergence of its binned share distribution, and its share of |attribution|.
    const perFeature = (name: string, help: string, field: 'psi' | 'js' | 'share_recent') =>
      gauge(name, help, ['model', 'feature'], async function () {
        this.reset();
        for (const f of arrayAt(await monitoring(), 'drift', 'features')) {
          const v = numberAt(f, field);
          const feature = (f as { feature?: unknown }).feature;
          if (v !== undefined && typeof feature === 'string') this.set({ model: modelLabel(), feature }, v);
        }
      });
    perFeature(
      'model_attribution_drift_feature_psi',
      'PSI of one feature’s attribution share, recent vs reference.',
      'psi',
    );
    perFeature(
      'model_attribution_drift_feature_js',
      'Jensen–Shannon divergence (base 2) of one feature’s attribution share, recent vs reference.',
      'js',
    );
    perFeature(
      'model_attribution_share',
      'One feature’s share of |attribution| mass over the recent window.',
      'share_recent',
    );
  }

  /** Counts one answered request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.requestSeconds.observe({ method, route }, seconds);
  }

  /** Counts one Seldon feedback message and adds its reward (0 when it has none). */
  observeFeedback(reward = 0): void {
    this.feedback.inc();
    this.feedbackReward.inc(reward);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    this.snapshot = undefined;
    // prom-client writes NaN as "Nan"; the text format's spelling is "NaN" (Prometheus reads either).
    return this.registry.metrics().then((text) => text.replace(/^([^#].*) Nan$/gm, '$1 NaN'));
  }

  close(): void {
    this.service.events.off('explained', this.onExplained);
    this.service.events.off('batch', this.onBatch);
    this.registry.clear();
  }
}
