// Monitoring computed locally: latency and cache over sliding windows, stability of the explanations,
// attribution drift against the bundle's reference, hourly snapshots in SQLite. See docs/monitoring.md.
export {
  Monitor,
  type ComputedExplanations,
  type ExplainRecord,
  type MonitorModel,
  type MonitorOptions,
  type StabilityExplain,
} from './monitor.js';
export { comparableToReference, readReference, type ExplanationSettings } from './reference.js';
export {
  isThinned,
  sampledSeries,
  timeSeries,
  type SampledRange,
  type SampledSeries,
  type SeriesRange,
} from './store.js';
