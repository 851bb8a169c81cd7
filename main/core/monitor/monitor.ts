// The service's monitor: it is told about every answered request, keeps bounded in-memory windows, computes
// the snapshot on demand, re-checks stability when asked, and stores a snapshot in SQLite every hour.
// It owns no timer: the service calls runStabilityIfDue and persistIfDue (docs/monitoring.md).
import { uptime } from 'node:os';
import type { BundleSchema, RawApplicant } from '../../../shared/bundle.js';
import type { CacheLevel } from '../../../shared/explanation.js';
import { maskedLast } from '../../../shared/masked-features.js';
import {
  DEFAULT_THRESHOLDS,
  HOUR_MS,
  tileStatus,
  worstStatus,
  type AttributionReference,
  type MonitoringSnapshot,
  type StabilitySnapshot,
  type Thresholds,
  type Tile,
  type TileId,
} from '../../../shared/monitoring.js';
import type { WritableDb } from '../db/open.js';
import { computeDrift, RecentWindow } from './drift.js';
import { DEFAULT_WINDOWS_MS, LatencyRecorder, TrafficTally } from './latency.js';
import { comparableToReference, type ExplanationSettings } from './reference.js';
import {
  DEFAULT_SENSITIVITY,
  maxSensitivity,
  repeatDeterminism,
  type SensitivityOptions,
  type ServedDocumentView,
  type ServedExplanation,
} from './stability.js';
import { insertSnapshot, latestSnapshotTime, pruneSnapshots } from './store.js';

export interface MonitorModel {
  id: string;
  version: string;
  /** The bundle's identity (sha256 of manifest.json). */
  sha256: string;
  schema: BundleSchema;
  /** The bundle's reference.json (readReference), or null: drift then reports `no_reference`. */
  reference: AttributionReference | null;
  /**
   * Each feature's name as monitoring shows and stores it, in schema order: a sensitive feature under the
   * pseudonym its documents use (default: the schema's names). The snapshot lists the sensitive ones last,
   * sorted by these names (maskedLast).
   */
  featureNames?: readonly string[];
}

export interface MonitorOptions {
  /**
   * The clock of the sliding windows and the stability schedule, in milliseconds (default `steadyClock()`:
   * monotonic, so a clock set forward and back again neither freezes the windows nor skips checks, and counting
   * the time the machine slept, so the windows are empty the morning after a night in suspend).
   */
  now?: () => number;
  /**
   * Milliseconds since the Unix epoch, for timestamps (`taken_at`, `computed_at`) and the hourly snapshot
   * (default Date.now; `now` when only that is given, as tests do).
   */
  wallNow?: () => number;
  /** Traffic bucket width (default 10 s) and the sliding windows (default 1 min, 5 min, 1 h). */
  bucketMs?: number;
  windowsMs?: readonly number[];
  /** The window the latency and cache tiles judge (default 5 min). */
  tileWindowMs?: number;
  /** Recent explanations kept for drift (default 1000), and the fewest for which drift is reported (300). */
  driftWindow?: number;
  driftMinRows?: number;
  /** Recent applicants kept, in memory only, for the next stability run (default 16). */
  stabilitySamples?: number;
  sensitivity?: Partial<SensitivityOptions>;
  /** Minimum time between stability runs (default 15 min). */
  stabilityEveryMs?: number;
  /** Snapshot period (default 1 h, on the hour) and how long snapshots are kept (default 365 days). */
  persistEveryMs?: number;
  retentionMs?: number;
  /**
   * Whether closing stores a snapshot of what was answered since the last one (default true: the desktop app and
   * the server; a one-off CLI command, which is not a session worth a point on the charts, turns it off).
   */
  snapshotOnClose?: boolean;
  thresholds?: Partial<Thresholds>;
}

/** Explanations computed for a request (cache misses), with everything the monitor needs to reuse them. */
export interface ComputedExplanations<O> {
  /**
   * The model that computed them (sha256 of its manifest): explanations of another model than the one monitored
   * (computed by the engines an activation just replaced) are dropped, not compared with the new model.
   */
  modelSha256?: string;
  /** Per applicant, every feature's attribution in schema feature order (not top-K, not pseudonymised). */
  attributions: readonly (readonly number[])[];
  /** How they were made: only explanations comparable with the bundle's reference count towards drift. */
  settings: ExplanationSettings;
  /** The raw applicants, same order, for the stability sample. Kept in memory only, never persisted. */
  applicants?: readonly RawApplicant[];
  /** Handed back to the explain function of runStability to re-explain these applicants the same way. */
  options?: O;
}

export interface ExplainRecord<O> {
  /** Per answered applicant, as stamped in the document's meta.latency_ms. */
  latencyMs: number;
  cacheLevel: CacheLevel;
  /** Applicants answered with this latency and cache level (default 1). */
  count?: number;
  computed?: ComputedExplanations<O>;
}

/** Re-explains raw applicants with the given options, bypassing every cache: per-feature attributions. */
export type StabilityExplain<O> = (
  applicants: RawApplicant[],
  options: O | undefined,
) => Promise<number[][]> | number[][];

type StabilitySample<O> = ServedExplanation & { options: O | undefined };

/** An answer served from the cache, for the stability sample: what its document showed. */
export interface ServedFromCache<O> {
  /** The model whose answer the cache served (as ComputedExplanations.modelSha256). */
  modelSha256?: string;
  applicant: RawApplicant;
  document: ServedDocumentView;
  options: O | undefined;
}

/** The clocks steadyClock reads (tests pass their own). */
export interface SteadyClockSources {
  /** Monotonic milliseconds that stand still while the machine sleeps (performance.now: CLOCK_MONOTONIC). */
  monotonic(): number;
  /** Milliseconds since the epoch, which the user or NTP may set (Date.now). */
  wall(): number;
  /** Seconds since boot, sleep included (os.uptime: CLOCK_BOOTTIME on Linux); ~7 µs a call, so read rarely. */
  uptime(): number;
}

/** How far the wall clock and the monotonic one may part between two readings before the uptime is asked. */
const CLOCKS_PART_MS = 1000;

/**
 * A monotonic clock in epoch milliseconds: the wall time when it was made, advanced by performance.now() and by
 * the time the machine slept. Setting the system clock does not move it, so sliding windows and schedules keep
 * their pace. A sleep does: performance.now() stands still through one, and a workstation suspended overnight
 * would otherwise show the evening's traffic as the last 5 minutes' in the morning. When the wall clock has moved
 * more than a second more (or less) than the monotonic one since the last reading, the uptime, which counts
 * sleep, tells a sleep (it moved too) from a clock being set (it did not).
 */
export function steadyClock(
  sources: SteadyClockSources = { monotonic: () => performance.now(), wall: Date.now, uptime },
): () => number {
  const origin = sources.wall() - sources.monotonic();
  let slept = 0;
  let lastMono = sources.monotonic();
  let lastWall = sources.wall();
  // The uptime and the monotonic time at the last look at the uptime.
  let upMono = lastMono;
  let upMs = sources.uptime() * 1000;
  return () => {
    const mono = sources.monotonic();
    const wall = sources.wall();
    if (Math.abs(wall - lastWall - (mono - lastMono)) > CLOCKS_PART_MS) {
      const up = sources.uptime() * 1000;
      const asleep = up - upMs - (mono - upMono);
      if (asleep > CLOCKS_PART_MS) slept += asleep;
      upMs = up;
      upMono = mono;
    }
    lastMono = mono;
    lastWall = wall;
    return origin + mono + slept;
  };
}

function emptyStability(s: SensitivityOptions): StabilitySnapshot {
  return {
    computed_at: null,
    samples: 0,
    repeat_max_abs_delta: null,
    sensitivity: { radius: s.radius, perturbations: s.perturbations, seed: s.seed, max: null, mean: null },
    duration_ms: null,
  };
}

export class Monitor<O = unknown> {
  readonly thresholds: Thresholds;
  readonly #now: () => number;
  readonly #wallNow: () => number;
  readonly #traffic: LatencyRecorder;
  readonly #tileWindowMs: number;
  readonly #driftWindow: number;
  readonly #driftMinRows: number;
  readonly #sampleCapacity: number;
  readonly #sensitivity: SensitivityOptions;
  readonly #stabilityEveryMs: number;
  readonly #persistEveryMs: number;
  readonly #retentionMs: number;
  readonly #startedAt: number;
  readonly #snapshotOnClose: boolean;
  #model!: MonitorModel;
  #recent!: RecentWindow;
  #samples: StabilitySample<O>[] = [];
  /** Of #samples, those served from the cache: at most #cachedSampleCapacity wait for each run. */
  #cachedSamples = 0;
  readonly #cachedSampleCapacity: number;
  #stability!: StabilitySnapshot;
  /** Bumped by setModel, so a stability run that straddles a model change is discarded. */
  #generation = 0;
  #stabilityRunning = false;
  #lastStabilityAt = -Infinity;
  #lastPersistedAt: number | undefined;
  /**
   * Applicants answered since the last snapshot this monitor stored (or since it started): stored with the next
   * one as `since_previous`, so that a chart summing snapshots counts each answer once.
   */
  readonly #sincePersist: TrafficTally;

  constructor(model: MonitorModel, options: MonitorOptions = {}) {
    this.#now = options.now ?? steadyClock();
    this.#wallNow = options.wallNow ?? options.now ?? Date.now;
    this.#traffic = new LatencyRecorder({
      now: this.#now,
      bucketMs: options.bucketMs ?? 10_000,
      windowsMs: options.windowsMs ?? DEFAULT_WINDOWS_MS,
    });
    this.#sincePersist = new TrafficTally({ now: this.#now });
    this.#tileWindowMs = options.tileWindowMs ?? 5 * 60_000;
    this.#driftWindow = options.driftWindow ?? 1000;
    this.#driftMinRows = options.driftMinRows ?? 300;
    this.#sampleCapacity = options.stabilitySamples ?? 16;
    this.#cachedSampleCapacity = Math.max(1, Math.floor(this.#sampleCapacity / 4));
    this.#sensitivity = { ...DEFAULT_SENSITIVITY, ...options.sensitivity };
    this.#stabilityEveryMs = options.stabilityEveryMs ?? 15 * 60_000;
    this.#persistEveryMs = options.persistEveryMs ?? HOUR_MS;
    this.#retentionMs = options.retentionMs ?? 365 * 24 * HOUR_MS;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
    this.#startedAt = this.#wallNow();
    this.#snapshotOnClose = options.snapshotOnClose ?? true;
    this.setModel(model);
  }

  get model(): MonitorModel {
    return this.#model;
  }

  /**
   * Switches to another model (after activate or rollback). Drift rows, stability samples and the last
   * stability result belong to the old model and are dropped; traffic (latency, cache) carries on.
   */
  setModel(model: MonitorModel): void {
    this.#model = model;
    this.#recent = new RecentWindow(model.schema.features.length, this.#driftWindow);
    this.#samples = [];
    this.#cachedSamples = 0;
    this.#stability = emptyStability(this.#sensitivity);
    this.#lastStabilityAt = -Infinity;
    this.#generation++;
  }

  /** Call once per answered request and cache level, after the documents are built. Never throws. */
  recordExplain(record: ExplainRecord<O>): void {
    this.#traffic.record(record.latencyMs, record.cacheLevel, record.count ?? 1);
    this.#sincePersist.record(record.latencyMs, record.cacheLevel, record.count ?? 1);
    const computed = record.computed;
    if (!computed || !this.#monitors(computed.modelSha256)) return;
    const width = this.#model.schema.features.length;
    const reference = this.#model.reference;
    // Without a reference the recent shares are still shown, for explanations made like the reference would be.
    const comparable = reference
      ? comparableToReference(reference, computed.settings)
      : computed.settings.baseline === 'schema' && (computed.settings.layer ?? null) === null;
    computed.attributions.forEach((row, i) => {
      if (row.length !== width || row.some((a) => !Number.isFinite(a))) return;
      if (comparable) this.#recent.push(row);
      const applicant = computed.applicants?.[i];
      if (applicant) {
        this.#keep({ applicant: { ...applicant }, attributions: [...row], options: computed.options });
      }
    });
  }

  /**
   * Whether an answer served from the cache would be kept for the next stability run: a few per run, so that
   * what the cache serves is recomputed too. Cheap, for the hit path to ask before it reads a document.
   */
  get wantsCachedSample(): boolean {
    return this.#cachedSamples < this.#cachedSampleCapacity;
  }

  /** Keeps an answer served from the cache for the next stability run (see wantsCachedSample). Never throws. */
  recordCachedSample(sample: ServedFromCache<O>): void {
    if (!this.wantsCachedSample || !this.#monitors(sample.modelSha256)) return;
    this.#keep({ applicant: { ...sample.applicant }, document: sample.document, options: sample.options });
  }

  /** Whether explanations of the model `sha256` are this monitor's (unnamed: taken to be). */
  #monitors(sha256: string | undefined): boolean {
    return sha256 === undefined || sha256 === this.#model.sha256;
  }

  /** Adds a sample, forgetting the oldest beyond the capacity. */
  #keep(sample: StabilitySample<O>): void {
    this.#samples.push(sample);
    if ('document' in sample) this.#cachedSamples++;
    if (this.#samples.length > this.#sampleCapacity) {
      const dropped = this.#samples.shift()!;
      if ('document' in dropped) this.#cachedSamples--;
    }
  }

  /** Applicants waiting for the next stability run. */
  get pendingStabilitySamples(): number {
    return this.#samples.length;
  }

  /**
   * Re-explains the kept applicants (then forgets them): repeat-determinism against what was served, and
   * max-sensitivity under seeded perturbations. Returns the new result, or null when there was nothing to
   * check, a run was already going on, or the model changed meanwhile (the previous result then stands).
   */
  async runStability(explain: StabilityExplain<O>): Promise<StabilitySnapshot | null> {
    if (this.#stabilityRunning || this.#samples.length === 0) return null;
    this.#stabilityRunning = true;
    const generation = this.#generation;
    const samples = this.#samples;
    this.#samples = [];
    this.#cachedSamples = 0;
    const started = this.#now();
    try {
      const groups = new Map<string, StabilitySample<O>[]>();
      for (const s of samples) {
        const key = JSON.stringify(s.options ?? null);
        groups.set(key, [...(groups.get(key) ?? []), s]);
      }
      let delta = 0;
      const sensitivities: number[] = [];
      for (const group of groups.values()) {
        const options = group[0]!.options;
        const fn = (applicants: RawApplicant[]) => explain(applicants, options);
        delta = Math.max(delta, await repeatDeterminism(fn, group));
        const result = await maxSensitivity(
          fn,
          group.map((s) => s.applicant),
          this.#model.schema,
          this.#sensitivity,
        );
        sensitivities.push(...result.perApplicant);
      }
      if (generation !== this.#generation) return null;
      const finished = this.#now();
      this.#lastStabilityAt = finished;
      const finishedWall = this.#wallNow();
      // JSON has no Infinity or NaN: a non-finite result is carried as a flag (the tile goes red), not as null
      // alone, which would read as "not measured".
      const repeatFinite = Number.isFinite(delta);
      const sensitivityFinite = sensitivities.every(Number.isFinite);
      this.#stability = {
        computed_at: new Date(finishedWall).toISOString(),
        samples: samples.length,
        repeat_max_abs_delta: repeatFinite ? delta : null,
        ...(repeatFinite ? {} : { repeat_non_finite: true as const }),
        sensitivity: {
          radius: this.#sensitivity.radius,
          perturbations: this.#sensitivity.perturbations,
          seed: this.#sensitivity.seed,
          max: sensitivityFinite ? Math.max(...sensitivities) : null,
          mean: sensitivityFinite ? sensitivities.reduce((a, s) => a + s, 0) / sensitivities.length : null,
          ...(sensitivityFinite ? {} : { non_finite: true as const }),
        },
        duration_ms: finished - started,
      };
      return this.#stability;
    } finally {
      this.#stabilityRunning = false;
    }
  }

  /** runStability when the last run is at least stabilityEveryMs old and applicants are waiting. */
  async runStabilityIfDue(explain: StabilityExplain<O>): Promise<StabilitySnapshot | null> {
    if (this.#now() - this.#lastStabilityAt < this.#stabilityEveryMs) return null;
    return this.runStability(explain);
  }

  snapshot(extra: { queueDepth?: number } = {}): MonitoringSnapshot {
    const now = this.#wallNow();
    const tileWindow = this.#traffic.summary(this.#tileWindowMs);
    const computed = computeDrift(
      this.#recent.rows(),
      this.#model.reference,
      this.#model.featureNames ?? this.#model.schema.features.map((f) => f.name),
      { minRows: this.#driftMinRows, psiThreshold: this.thresholds.drift_psi_max },
    );
    // Computed in schema order (the reference's); listed with the sensitive features last, by pseudonym.
    const { features } = this.#model.schema;
    const drift = {
      ...computed,
      features: maskedLast(
        computed.features,
        (f) => f.feature,
        (_, i) => features[i]?.sensitive === true,
      ),
    };
    const stability = this.#stability;
    const values: Record<TileId, number | null> = {
      latency_p99: tileWindow.latency.p99_ms,
      cache_hit_rate: tileWindow.cache.hit_rate,
      repeat_determinism: stability.repeat_max_abs_delta,
      sensitivity_max: stability.sensitivity.max,
      drift_js: drift.js,
      drift_psi_max: drift.psi_max,
    };
    const nonFinite: Partial<Record<TileId, boolean>> = {
      repeat_determinism: stability.repeat_non_finite === true,
      sensitivity_max: stability.sensitivity.non_finite === true,
    };
    const tiles: Tile[] = (Object.keys(values) as TileId[]).map((id) => ({
      id,
      value: values[id],
      status: nonFinite[id] ? 'red' : tileStatus(values[id], this.thresholds[id]),
      threshold: this.thresholds[id],
    }));
    const { id, version, sha256 } = this.#model;
    return {
      snapshot_version: 1,
      taken_at: new Date(now).toISOString(),
      model: { id, version, sha256 },
      windows: this.#traffic.summaries(),
      tile_window_s: this.#tileWindowMs / 1000,
      ...(extra.queueDepth !== undefined ? { queue_depth: extra.queueDepth } : {}),
      stability,
      drift,
      tiles,
      status: worstStatus(tiles.map((t) => t.status)),
    };
  }

  /**
   * Stores a snapshot when the clock has entered a new period (on the hour by default) since the last one
   * stored, by this process or an earlier one, and prunes snapshots older than the retention. Returns what
   * it stored, or null when none was due. Cheap when not due: call it from a timer every minute or so.
   */
  persistIfDue(db: WritableDb, extra: { queueDepth?: number } = {}): MonitoringSnapshot | null {
    const now = this.#wallNow();
    const period = (t: number) => Math.floor(t / this.#persistEveryMs);
    this.#lastPersistedAt ??= Math.max(latestSnapshotTime(db) ?? -Infinity, this.#startedAt);
    // A last snapshot "in the future" means the clock was set back (or was ahead when it was stored): count
    // from now, or no snapshot would be stored until the clock caught up with it, across restarts too.
    if (this.#lastPersistedAt > now) this.#lastPersistedAt = now;
    if (period(now) <= period(this.#lastPersistedAt)) return null;
    // Another process on the same data folder (the CLI beside the app, say) may have stored this period's
    // snapshot since: checked again under the write lock, so that the period gets one snapshot, not two.
    return db
      .transaction(() => {
        const stored = latestSnapshotTime(db);
        if (stored !== null && stored <= now && period(stored) >= period(now)) {
          this.#lastPersistedAt = stored;
          return null;
        }
        return this.persist(db, extra);
      })
      .immediate();
  }

  /**
   * Called when the service closes: stores a snapshot when requests were answered since the last one, so that
   * a session shorter than the period (a workstation switched on at 09:10 and off at 09:55) leaves its point.
   */
  persistOnClose(db: WritableDb, extra: { queueDepth?: number } = {}): MonitoringSnapshot | null {
    return this.#snapshotOnClose && this.#sincePersist.count > 0 ? this.persist(db, extra) : null;
  }

  /**
   * Stores the current snapshot now (and prunes), whether due or not, with what was answered since the last one
   * stored (`since_previous`).
   */
  persist(db: WritableDb, extra: { queueDepth?: number } = {}): MonitoringSnapshot {
    const now = this.#wallNow();
    const snapshot: MonitoringSnapshot = {
      ...this.snapshot(extra),
      since_previous: this.#sincePersist.window(),
    };
    db.transaction(() => {
      insertSnapshot(db, snapshot, now);
      // At least a retention's worth of periods is kept, whatever the clock says (store.ts pruneSnapshots).
      pruneSnapshots(db, now - this.#retentionMs, Math.ceil(this.#retentionMs / this.#persistEveryMs));
    })();
    this.#lastPersistedAt = now;
    // Only once stored: answers of a snapshot that failed to store count in the next one.
    this.#sincePersist.restart();
    return snapshot;
  }
}
