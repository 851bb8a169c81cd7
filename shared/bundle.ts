// The model bundle's declarative parts: schema.json and manifest.json.
// Shared because the renderer builds its applicant form from the same schema the engine validates with.
import { z } from 'zod';
import { MESSAGES } from './i18n/index.js';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

const localized = z.object({ 'zh-CN': z.string().min(1), en: z.string().min(1) }).strict();
export type Localized = z.infer<typeof localized>;

/** Direction templates. `{label}` and `{value}` are filled in; `neutral` is used for a zero attribution. */
const templates = z
  .object({
    positive: localized,
    negative: localized,
    neutral: localized.optional(),
  })
  .strict();

const featureCommon = {
  name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be an identifier (letters, digits, _ . -)'),
  label: localized,
  unit: localized.optional(),
  templates,
  sensitive: z.boolean().default(false),
  required: z.boolean().default(false),
  description: localized.optional(),
};

/**
 * The smallest scaler std: below it a raw value a little off the mean already encodes past float32's range (the
 * model computes in float32), and a subnormal std such as 5e-324 sends every value but the mean to ±Infinity.
 */
export const MIN_SCALER_STD = 1e-12;

const numericFeature = z
  .object({
    ...featureCommon,
    type: z.literal('numeric'),
    scaler: z
      .object({
        mean: z.number(),
        std: z.number().gte(MIN_SCALER_STD, `must be at least ${MIN_SCALER_STD}`),
      })
      .strict(),
    impute: z.number(),
    range: z
      .object({ min: z.number().optional(), max: z.number().optional() })
      .strict()
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
        message: 'min must not be above max: no value could pass',
      })
      .optional(),
    integer: z.boolean().default(false),
  })
  .strict()
  .superRefine((f, ctx) => {
    // The imputed value is used as the feature's value: it must be one the feature accepts.
    const { min, max } = f.range ?? {};
    if (min !== undefined && max !== undefined && min > max) return; // the range itself is refused
    if ((min !== undefined && f.impute < min) || (max !== undefined && f.impute > max)) {
      ctx.addIssue({
        code: 'custom',
        path: ['impute'],
        message: `${f.impute} is outside range (${min ?? '-∞'} to ${max ?? '∞'})`,
      });
    }
  });

const categoricalFeature = z
  .object({
    ...featureCommon,
    type: z.literal('categorical'),
    categories: z
      .array(z.string().min(1))
      .min(2)
      .refine((c) => new Set(c).size === c.length, 'categories must be unique'),
    category_labels: z.record(z.string(), localized).optional(),
    impute: z.string(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (!f.categories.includes(f.impute)) {
      ctx.addIssue({
        code: 'custom',
        path: ['impute'],
        message: `"${f.impute}" is not one of the categories`,
      });
    }
  });

const booleanFeature = z
  .object({
    ...featureCommon,
    type: z.literal('boolean'),
    /** Raw strings accepted for true and false, besides JSON booleans (e.g. "yes"/"no"). */
    true_values: z.array(z.string()).default(['true', 'yes', '1']),
    false_values: z.array(z.string()).default(['false', 'no', '0']),
    impute: z.boolean(),
  })
  .strict()
  .superRefine((f, ctx) => {
    // Values are compared trimmed and lowercased: a string in both lists would be read as true, silently.
    const norm = (v: string) => v.trim().toLowerCase();
    const trues = new Set(f.true_values.map(norm));
    const both = [...new Set(f.false_values.map(norm))].filter((v) => trues.has(v));
    if (both.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['false_values'],
        message: `${both.map((v) => `"${v}"`).join(', ')} cannot be in both true_values and false_values`,
      });
    }
  });

export const featureSchema = z.discriminatedUnion('type', [
  numericFeature,
  categoricalFeature,
  booleanFeature,
]);
export type Feature = z.infer<typeof featureSchema>;
export type NumericFeature = z.infer<typeof numericFeature>;
export type CategoricalFeature = z.infer<typeof categoricalFeature>;
export type BooleanFeature = z.infer<typeof booleanFeature>;

export const outputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('sigmoid'),
      /** [negative, positive]: the single unit is P(classes[1]). */
      classes: z.tuple([z.string().min(1), z.string().min(1)]),
      explain_class: z.string().min(1),
      threshold: z.number().min(0).max(1).default(0.5),
      label: localized.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('softmax'),
      classes: z.array(z.string().min(1)).min(2),
      explain_class: z.string().min(1).optional(),
      label: localized.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('regression'),
      label: localized.optional(),
    })
    .strict(),
]);
export type OutputSpec = z.infer<typeof outputSchema>;

export const RAW_VALUE = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export type RawValue = z.infer<typeof RAW_VALUE>;
export type RawApplicant = Record<string, unknown>;

export const bundleSchemaSchema = z
  .object({
    schema_version: z.literal(1),
    features: z
      .array(featureSchema)
      .min(1)
      .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'feature names must be unique'),
    output: outputSchema,
    /** The reference applicant, as raw values: the default IG baseline. */
    baseline: z.record(z.string(), RAW_VALUE),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set(s.features.map((f) => f.name));
    for (const key of Object.keys(s.baseline)) {
      if (!names.has(key))
        ctx.addIssue({ code: 'custom', path: ['baseline', key], message: 'not a feature' });
    }
    if (s.output.kind === 'sigmoid' && !s.output.classes.includes(s.output.explain_class)) {
      ctx.addIssue({
        code: 'custom',
        path: ['output', 'explain_class'],
        message: 'not one of output.classes',
      });
    }
    if (
      s.output.kind === 'softmax' &&
      s.output.explain_class &&
      !s.output.classes.includes(s.output.explain_class)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['output', 'explain_class'],
        message: 'not one of output.classes',
      });
    }
  });
export type BundleSchema = z.infer<typeof bundleSchemaSchema>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

/** Names Windows keeps for devices, in any case, also with an extension (`nul.txt` is NUL) or spaces before it. */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *(\.|$)/i;

/**
 * Why `name` cannot name a folder on Windows, or undefined. A model is installed in models/<id>/<version>/, and a
 * branch workstation may run Windows: a device name there is the device, not a folder, and a trailing space or
 * dot is dropped (so 1.0.0-rc. would be 1.0.0-rc). Refused on every system, so a data folder can be moved to
 * any workstation. `what` is what to change: `model id`, `version`.
 */
export function windowsFolderNameProblem(name: string, what: string): string | undefined {
  const why = `the model's folder is named after it, and Windows`;
  if (WINDOWS_DEVICE_NAME.test(name)) {
    return `must not be a device name of Windows (CON, PRN, AUX, NUL, COM1 to COM9, LPT1 to LPT9, in any letter case, with or without an extension): ${why} cannot make such a folder; give the bundle another ${what}`;
  }
  if (/[ .]$/.test(name)) {
    return `must not end in a space or a dot: ${why} drops them from a folder's name; give the bundle another ${what}`;
  }
  return undefined;
}

/** A manifest field that names the model's folder: refused with windowsFolderNameProblem's words. */
function folderName(format: RegExp, message: string, what: string) {
  return z
    .string()
    .regex(format, { message, abort: true })
    .superRefine((name, ctx) => {
      const problem = windowsFolderNameProblem(name, what);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

export const manifestSchema = z
  .object({
    id: folderName(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and -', 'model id'),
    version: folderName(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version', 'version'),
    created_at: z.iso.datetime({ offset: true }),
    description: localized.optional(),
    training_data: z
      .object({
        description: z.string().min(1),
        source: z.string().optional(),
        license: z.string().optional(),
        rows: z.number().int().nonnegative().optional(),
      })
      .strict(),
    metrics: z.record(z.string(), z.number()),
    /** sha256 of every other file of the bundle, keyed by its path relative to the bundle. */
    files: z
      .record(z.string(), sha256Hex)
      .refine((f) => Object.keys(f).length > 0, 'must list the bundle files'),
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

/** One column of the model's input vector, derived from the schema. */
export interface InputColumn {
  name: string;
  feature: string;
  category?: string;
}

/** The model-input columns in order: numeric and boolean give one column, categorical one per category. */
/**
 * A numeric feature's value as given, read the one way the engine and the form both read it: a JSON number, or
 * number text (a CSV cell, a form field: `"1500"`, `" 1.5e3 "`, full-width `"１５００"`); the text NaN / Inf /
 * Infinity as NaN, which the callers then refuse as not finite. Undefined for anything else (a wrong type).
 */
export function numberFromInput(given: unknown): number | undefined {
  if (typeof given === 'number') return given;
  if (typeof given !== 'string') return undefined;
  const text = halfWidth(given);
  if (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text)) return Number(text);
  if (/^\s*[-+]?(nan|inf|infinity)\s*$/i.test(text)) return NaN;
  return undefined;
}

/**
 * Whether a numeric feature's value, scaled by its scaler, is past what the model's float32 inputs hold (±3.4e38):
 * the model would see Infinity, and its attributions would be NaN. Only a feature without a `range` lets such a
 * value through; the engine and the form both refuse it as not finite.
 */
export function scaledPastFloat32(f: Pick<NumericFeature, 'scaler'>, n: number): boolean {
  return !Number.isFinite(Math.fround((n - f.scaler.mean) / f.scaler.std));
}

/**
 * A boolean feature's value as given, read the one way the engine and the form both read it: a JSON boolean, or
 * text or a number matching one of the feature's true_values / false_values, both sides trimmed and lowercased
 * (a bundle's "Y" reads "Y", " y" and "y"). Text may also be a word the page shows the value in (是 / 否,
 * Yes / No: `shownBooleanWords`), or one of the feature's own values in full-width letters, in any case: what a
 * file saved from the page, or typed with a Chinese input method, holds. The bundle's own values win; a word
 * that also reads as the other side is neither. Undefined for anything else (a wrong type).
 */
export function booleanFromInput(
  f: Pick<BooleanFeature, 'true_values' | 'false_values'>,
  given: unknown,
): boolean | undefined {
  if (typeof given === 'boolean') return given;
  const s =
    typeof given === 'string'
      ? given.trim().toLowerCase()
      : typeof given === 'number'
        ? String(given)
        : undefined;
  if (s === undefined) return undefined;
  if (f.true_values.some((t) => t.trim().toLowerCase() === s)) return true;
  if (f.false_values.some((t) => t.trim().toLowerCase() === s)) return false;
  if (typeof given !== 'string') return undefined;
  const words = booleanWords(f);
  const w = folded(given);
  const yes = words.yes.some((t) => folded(t) === w);
  const no = words.no.some((t) => folded(t) === w);
  return yes === no ? undefined : yes;
}

/** The words the page shows a boolean in, in every language (common.yes / common.no): 是 and 否, Yes and No. */
export const shownBooleanWords: { readonly yes: readonly string[]; readonly no: readonly string[] } = {
  yes: LOCALES.map((l) => MESSAGES[l]['common.yes']),
  no: LOCALES.map((l) => MESSAGES[l]['common.no']),
};

/**
 * The text a boolean feature reads as true and as false (booleanFromInput), each once in any case and width: its
 * own values, then the words the page shows, less any that is also a word for the other side (a bundle whose
 * false_values hold "yes" does not read "Yes" as true). Also what messages tell the user to write.
 */
export function booleanWords(f: Pick<BooleanFeature, 'true_values' | 'false_values'>): {
  yes: string[];
  no: string[];
} {
  const has = (words: readonly string[], w: string) => words.some((v) => folded(v) === folded(w));
  const once = (words: readonly string[]) =>
    words.filter((w, i) => words.findIndex((v) => folded(v) === folded(w)) === i);
  const shown = (words: readonly string[], other: readonly string[]) => words.filter((w) => !has(other, w));
  return {
    yes: once([
      ...f.true_values,
      ...shown(shownBooleanWords.yes, [...f.false_values, ...shownBooleanWords.no]),
    ]),
    no: once([
      ...f.false_values,
      ...shown(shownBooleanWords.no, [...f.true_values, ...shownBooleanWords.yes]),
    ]),
  };
}

/**
 * A categorical feature's value as given, read the one way the engine and the form both read it: its code, or
 * the one category whose code or label (category_labels, in any language: 租房, Renting) it is, in any case and
 * width: what a file saved from the page, or typed by an officer, holds. A code as given wins; text that is the
 * code or label of more than one category is none of them. Undefined for anything else (not text, or unknown).
 */
export function categoryFromInput(
  f: Pick<CategoricalFeature, 'categories' | 'category_labels'>,
  given: unknown,
): string | undefined {
  if (typeof given !== 'string') return undefined;
  const v = given.trim();
  if (f.categories.includes(v)) return v;
  const w = folded(v);
  const meant = f.categories.filter(
    (c) =>
      folded(c) === w ||
      LOCALES.some((l) => {
        const label = f.category_labels?.[c]?.[l];
        return label !== undefined && folded(label) === w;
      }),
  );
  return meant.length === 1 ? meant[0] : undefined;
}

/** Text as compared with a code, a label or a yes/no word: trimmed, half-width, lowercased. */
function folded(text: string): string {
  return halfWidth(text).trim().toLowerCase();
}

/**
 * Text with the full-width forms of ASCII characters (U+FF01–U+FF5E: `１２３．５`, as a Chinese input method
 * types digits) as their ASCII characters. Only those: other look-alike digits (superscripts, circled numbers)
 * stay as they are and are not read as numbers.
 */
export function halfWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** A number written in groups of three, as the page writes them and Excel saves a cell formatted so. */
const GROUPED = /^\s*[-+]?\d{1,3}(,\d{3})+(\.\d*)?\s*$/;

/**
 * Number text written in groups of three, "1,500,000" (or with full-width commas), without its commas: as the
 * form's fields are typed, and as Excel writes a cell formatted with a thousands separator into a CSV ("12,000").
 * Only well-formed groups of three: "1,5" is not read as 15, nor as 1.5, and stays as it is, to be refused.
 */
export function ungrouped(value: string): string {
  const ascii = halfWidth(value);
  return GROUPED.test(ascii) ? ascii.replace(/,/g, '') : value;
}

/**
 * A CSV row's cells as the JSON an applicant is sent in: a numeric feature's cell that reads as a number
 * (`numberFromInput`) becomes that number; every other cell stays as it is, so the engine names whatever is
 * wrong with it. Text has no types; JSON does, and the service holds its callers to them.
 *
 * `delimiter` is the file's separator. Only a comma-separated file's cells may be grouped ("12,000", `ungrouped`):
 * Excel separates with a comma where the decimal mark is a point, and with a semicolon where it is a comma, so in
 * a semicolon- or tab-separated file "1,500" may be one and a half, and is left to be refused rather than misread.
 */
export function numbersFromText(
  schema: Pick<BundleSchema, 'features'>,
  row: Readonly<Record<string, unknown>>,
  delimiter: string,
): Record<string, unknown> {
  const read = delimiter === ',' ? (cell: string) => numberFromInput(ungrouped(cell)) : numberFromInput;
  const out: Record<string, unknown> = { ...row };
  for (const f of schema.features) {
    if (f.type !== 'numeric' || !Object.prototype.hasOwnProperty.call(row, f.name)) continue;
    const cell = row[f.name];
    if (typeof cell !== 'string' || cell.trim() === '') continue;
    const n = read(cell);
    if (n !== undefined) out[f.name] = n;
  }
  return out;
}

export function inputColumns(schema: Pick<BundleSchema, 'features'>): InputColumn[] {
  const cols: InputColumn[] = [];
  for (const f of schema.features) {
    if (f.type === 'categorical') {
      for (const c of f.categories) cols.push({ name: `${f.name}=${c}`, feature: f.name, category: c });
    } else {
      cols.push({ name: f.name, feature: f.name });
    }
  }
  return cols;
}

/** The class index explained by default, or null for regression. */
export function defaultTargetName(output: OutputSpec): string | null {
  switch (output.kind) {
    case 'sigmoid':
      return output.explain_class;
    case 'softmax':
      return output.explain_class ?? null;
    case 'regression':
      return null;
  }
}
