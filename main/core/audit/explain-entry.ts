// The audit entry for one explanation, taken from the document the caller returns to the user.
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { canonicalJsonOfSorted } from '../canonical-json.js';
import {
  checkHex64,
  refuseLoneSurrogates,
  type AuditEntryInput,
  type JsonObject,
  type PreparedEntry,
} from './entry.js';

/**
 * `inputHashHex` is inputHash(hmacKey, rawInput). The document's attributions are already masked
 * (sensitive features carry pseudonyms), and only feature and attribution are kept.
 */
export function explainEntry(doc: ExplanationDocument, inputHashHex: string): AuditEntryInput {
  return {
    kind: 'explain',
    model: { id: doc.model.id, version: doc.model.version, sha256: doc.model.sha256 },
    explainer: { version: doc.meta.explainer_version, params: doc.meta.explanation.params as JsonObject },
    inputHash: inputHashHex,
    prediction: doc.score,
    topAttributions: doc.attributions.map((a) => ({ feature: a.feature, attribution: a.attribution })),
    cache: doc.meta.cache,
    latencyMs: doc.meta.latency_ms,
    watermark: doc._meta.watermark,
    documentId: doc.id,
    details: doc.decision ? { decision: { ...doc.decision } } : null,
  };
}

/**
 * prepareEntry(explainEntry(doc, inputHashHex), at), laid out straight from a document this installation has
 * just built and signed (fixPrecision's output: finite numbers, members in RFC 8785 order), without the zod
 * pass a caller's entry needs: the engine threads prepare one per answer. A test holds the two equal.
 */
export function prepareExplainEntry(doc: ExplanationDocument, inputHashHex: string, at: Date): PreparedEntry {
  checkHex64('inputHash', inputHashHex);
  checkHex64('watermark', doc._meta.watermark);
  const top = doc.attributions.map((a) => ({ attribution: a.attribution, feature: a.feature }));
  const decision = doc.decision;
  const stored: PreparedEntry['stored'] = [
    at.toISOString(),
    'explain',
    doc.model.id,
    doc.model.version,
    doc.model.sha256,
    doc.meta.explainer_version,
    canonicalJsonOfSorted(doc.meta.explanation.params),
    inputHashHex,
    doc.score,
    canonicalJsonOfSorted(top),
    doc.meta.cache,
    doc.meta.latency_ms,
    doc._meta.watermark,
    doc.id,
    decision
      ? canonicalJsonOfSorted({
          decision: { approved: decision.approved, label: decision.label, threshold: decision.threshold },
        })
      : null,
  ];
  refuseLoneSurrogates(stored);
  return { stored };
}
