// Reads assets/data/credit_data.csv into raw applicants (the model's features only) and 0/1 labels.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { FEATURE_NAMES } from './credit-features.js';

export const CREDIT_CSV = fileURLToPath(new URL('../../assets/data/credit_data.csv', import.meta.url));

export const LABEL_COLUMN = 'Status';
/** The positive class: the model outputs P(good), the approval probability. */
export const POSITIVE = 'good';
export const NEGATIVE = 'bad';

export interface CreditData {
  /** Feature name → the CSV cell, as a form or a CSV upload would send it ('' when missing). */
  applicants: Record<string, string>[];
  /** 1 for good, 0 for bad. */
  labels: number[];
}

export function parseCreditCsv(text: string): CreditData {
  const records = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const header = records[0] ? Object.keys(records[0]) : [];
  const absent = [LABEL_COLUMN, ...FEATURE_NAMES].filter((c) => !header.includes(c));
  if (absent.length) throw new Error(`credit data: missing column(s) ${absent.join(', ')}`);
  const applicants: Record<string, string>[] = [];
  const labels: number[] = [];
  records.forEach((record, i) => {
    const status = record[LABEL_COLUMN];
    if (status !== POSITIVE && status !== NEGATIVE) {
      throw new Error(`credit data line ${i + 2}: ${LABEL_COLUMN} must be good or bad, got "${status}"`);
    }
    labels.push(status === POSITIVE ? 1 : 0);
    applicants.push(Object.fromEntries(FEATURE_NAMES.map((name) => [name, record[name] ?? ''])));
  });
  return { applicants, labels };
}

export function readCreditData(path = CREDIT_CSV): CreditData {
  return parseCreditCsv(readFileSync(path, 'utf8'));
}

/** The first `n` rows: small subsets for tests. */
export function headOf(data: CreditData, n: number): CreditData {
  return { applicants: data.applicants.slice(0, n), labels: data.labels.slice(0, n) };
}
