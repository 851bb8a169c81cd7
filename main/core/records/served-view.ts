// What a served document shows of its attributions, read back from its JSON text, so that an answer served from
// the cache can be recomputed and compared (the monitor's repeat-determinism). The cache keeps only the signed
// document: its top-K attributions, each under the feature's name or its keyed pseudonym, and the rest's sum.
import type { BundleSchema } from '../../../shared/bundle.js';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { pseudonym } from './mask.js';

export interface ServedDocumentView {
  /**
   * The attributions the document shows, each with its feature's index in the schema (−1 for a name that is no
   * feature of the model, which no recomputation can match), as the document holds them (rounded).
   */
  shown: readonly { index: number; attribution: number }[];
  rest_sum: number;
  top_k: number;
}

/** Per schema (and installation key): each feature's index under the name a document shows it by. */
const indexes = new WeakMap<BundleSchema, { key: Buffer; byName: Map<string, number> }>();

function indexByShownName(schema: BundleSchema, maskKey: Buffer): Map<string, number> {
  const known = indexes.get(schema);
  if (known && known.key.equals(maskKey)) return known.byName;
  const byName = new Map(
    schema.features.map((f, i) => [f.sensitive ? pseudonym(maskKey, f.name) : f.name, i] as const),
  );
  indexes.set(schema, { key: maskKey, byName });
  return byName;
}

/** The view of a document's JSON text, explained with `schema`'s features (not a layer's units). */
export function servedDocumentView(json: string, schema: BundleSchema, maskKey: Buffer): ServedDocumentView {
  const doc = JSON.parse(json) as ExplanationDocument;
  const byName = indexByShownName(schema, maskKey);
  return {
    shown: doc.attributions.map((a) => ({ index: byName.get(a.feature) ?? -1, attribution: a.attribution })),
    rest_sum: doc.rest_sum,
    top_k: doc.meta.explanation.params.top_k,
  };
}
