// `branchlens demo`: explains the demo model's sample applicants and prints them for a person to read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../shared/problems.js';
import { LOCALES, type Locale } from '../../../shared/bundle.js';
import { takesApplicants } from '../../core/applicants.js';
import type { ExplanationDocument } from '../../../shared/explanation.js';
import { demoModelDir, samplesDir } from '../../core/paths.js';
import { openService, serviceOptionsFromEnv } from '../service.js';
import { DATA_OPTION, dataDirFrom, parseFlags, writeOut, type Command } from '../command.js';

const WORDS = {
  'zh-CN': {
    applicant: '申请人',
    approval: '通过率',
    decision: '决定',
    approved: '通过',
    declined: '拒绝',
    reasons: '主要拒绝原因',
    // An approved applicant's factors against approval are not reasons for a refusal (as in the UI).
    adverse: '主要不利因素',
    rest: (count: number) => `其余 ${count} 项`,
    check: '完整性',
    watermark: '水印',
    latency: '耗时',
    list: '、',
    colon: '：',
  },
  en: {
    applicant: 'Applicant',
    approval: 'Approval probability',
    decision: 'Decision',
    approved: 'approved',
    declined: 'declined',
    reasons: 'Principal reasons against approval',
    adverse: 'Main adverse factors',
    rest: (count: number) => `${count} other feature${count === 1 ? '' : 's'}`,
    check: 'Completeness',
    watermark: 'Watermark',
    latency: 'Latency',
    list: ', ',
    colon: ': ',
  },
} as const;

export function renderDocument(doc: ExplanationDocument, n: number, locale: Locale): string {
  const w = WORDS[locale];
  const bar = (a: number) => {
    const len = Math.min(20, Math.round(Math.abs(a) * 100));
    return (a < 0 ? '-' : '+').repeat(Math.max(1, len));
  };
  const c = w.colon;
  const lines = [
    `${w.applicant} ${n}${c}${w.approval} ${(doc.score * 100).toFixed(1)}%` +
      (doc.decision ? ` · ${w.decision}${c}${doc.decision.approved ? w.approved : w.declined}` : ''),
    ...doc.attributions.map(
      (a) =>
        `  ${a.attribution >= 0 ? ' ' : ''}${a.attribution.toFixed(4)}  ${bar(a.attribution).padEnd(20)}  ${a.description}`,
    ),
    `  ${doc.rest_sum >= 0 ? ' ' : ''}${doc.rest_sum.toFixed(4)}  ${''.padEnd(20)}  ${w.rest(doc.rest_count)}`,
  ];
  if (doc.reasons.length) {
    const heading = doc.decision?.approved === false ? w.reasons : w.adverse;
    lines.push(`  ${heading}${c}${doc.reasons.map((r) => r.label ?? r.description).join(w.list)}`);
  }
  lines.push(
    `  ${w.check}${c}Σ=${doc.completeness.sum.toFixed(6)} f(x)−f(b)=${doc.completeness.expected.toFixed(6)} Δ=${doc.completeness.delta.toExponential(1)}` +
      ` · ${w.watermark}${c}${doc._meta.watermark.slice(0, 16)}… · ${w.latency}${c}${doc.meta.latency_ms.toFixed(2)} ms · ${doc.meta.backend}`,
  );
  return lines.join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  summary:
    "Explain the demo model's sample applicants and print them for a person to read (a quick check that the install works).",
  usage: 'branchlens demo [--locale zh-CN|en] [--data DIR]',
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...DATA_OPTION, locale: { type: 'string' } });
    const flagged = values.locale as Locale | undefined;
    if (flagged !== undefined && !LOCALES.includes(flagged)) {
      throw new InputError([
        { field: '--locale', code: 'invalid', message: `must be one of ${LOCALES.join(', ')}` },
      ]);
    }
    const applicants = JSON.parse(readFileSync(join(samplesDir(), 'applicants.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    const fromEnv = serviceOptionsFromEnv(io.env); // checked before the data folder is opened
    const dataDir = dataDirFrom(values, io);
    let service = await openService({ ...fromEnv, dataDir });
    if (!takesApplicants(service.schema, applicants)) {
      // The samples are the demo model's: with a branch's own model active, the check of the install runs on
      // the bundled demo model (audited as such) rather than failing on features the active model lacks.
      const active = `${service.model.id}@${service.model.version}`;
      await service.close();
      service = await openService({ ...fromEnv, dataDir, modelDir: demoModelDir() });
      io.stderr.write(
        `note: the active model ${active} does not take the demo's sample applicants: they are explained with the bundled demo model\n`,
      );
    }
    try {
      // Without --locale, the branch's stored language.
      const locale = flagged ?? service.getSettings().locale;
      const docs = await service.explain(applicants, { locale });
      await writeOut(
        io,
        `BranchLens · ${service.model.id}@${service.model.version} · ${service.backend}\n\n` +
          docs.map((d, i) => renderDocument(d, i + 1, locale)).join('\n\n') +
          '\n',
      );
      return 0;
    } finally {
      await service.close();
    }
  },
};
