// The demo applicants shipped in assets/samples/: the first is what `branchlens explain` shows by default.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleSchema, RawApplicant } from '../../shared/bundle.js';

export interface DemoApplicant {
  /** Why the sample is there; printed by the training script, not shipped. */
  role: string;
  applicant: RawApplicant;
}

export const DEMO_APPLICANTS: readonly DemoApplicant[] = [
  {
    role: 'borderline applicant with reasons on both sides',
    applicant: {
      Seniority: 2,
      Home: 'rent',
      Time: 60,
      Records: false,
      Job: 'freelance',
      Expenses: 60,
      Income: 200,
      Assets: 5000,
      Debt: 0,
      Amount: 1500,
      Price: 1800,
    },
  },
  {
    role: 'strong applicant',
    applicant: {
      Seniority: 15,
      Home: 'owner',
      Time: 36,
      Records: false,
      Job: 'fixed',
      Expenses: 60,
      Income: 250,
      Assets: 10000,
      Debt: 0,
      Amount: 800,
      Price: 1500,
    },
  },
  {
    role: 'weak applicant',
    applicant: {
      Seniority: 0,
      Home: 'other',
      Time: 60,
      Records: true,
      Job: 'partime',
      Expenses: 75,
      Income: 80,
      Assets: 0,
      Debt: 1500,
      Amount: 1800,
      Price: 1900,
    },
  },
  {
    role: 'applicant with a missing Income (imputed)',
    applicant: {
      Seniority: 6,
      Home: 'parents',
      Time: 48,
      Records: false,
      Job: 'freelance',
      Expenses: 45,
      Assets: 3000,
      Debt: 0,
      Amount: 1000,
      Price: 1300,
    },
  },
];

/** Writes applicants.json, applicants.csv and sample-N.json; replaces older sample-N files. */
export function writeSamples(
  dir: string,
  schema: Pick<BundleSchema, 'features'>,
  samples: readonly RawApplicant[],
): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (/^sample-\d+\.json$/.test(name)) rmSync(join(dir, name));
  writeFileSync(join(dir, 'applicants.json'), JSON.stringify(samples, null, 2) + '\n');
  samples.forEach((s, i) =>
    writeFileSync(join(dir, `sample-${i + 1}.json`), JSON.stringify(s, null, 2) + '\n'),
  );
  writeFileSync(join(dir, 'applicants.csv'), toCsv(schema, samples));
}

/** One header row of feature names, one row per applicant; booleans as the schema's first yes/no words. */
export function toCsv(schema: Pick<BundleSchema, 'features'>, rows: readonly RawApplicant[]): string {
  const lines = [schema.features.map((f) => quote(f.name)).join(',')];
  for (const row of rows) {
    const cells = schema.features.map((f) => {
      const v = row[f.name];
      if (v === undefined || v === null) return '';
      if (typeof v === 'boolean' && f.type === 'boolean') return v ? f.true_values[0]! : f.false_values[0]!;
      return quote(String(v));
    });
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

function quote(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
