// 解释 Explain: one applicant, entered in a form generated from the active model's schema, explained with the
// settings' top-K, method and steps in the current language. The form checks each value by the API's rules;
// problems the API still finds are shown by field too.
import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import samples from '../../../../assets/samples/applicants.json';
import type { BundleSchema } from '../../../../shared/bundle.js';
import { ApiError, type Settings } from '../../../../shared/contract.js';
import type { ExplanationDocument } from '../../../../shared/explanation.js';
import { useApp } from '../../app/context.js';
import { loadCharts, preloadCharts } from '../../charts/EChart.js';
import { attributionBars } from '../../lib/attribution-bars.js';
import { desktopBridge } from '../../api/desktop.js';
import { describeError } from '../../lib/errors.js';
import { fileStamp, printPage, saveFile } from '../../lib/download.js';
import {
  checkedProblems,
  featureLabel,
  fieldMessages,
  serverProblems,
  type FieldIssue,
} from '../../lib/problem-text.js';
import { validateApplicant, validateValue, isMissing } from '../../lib/validate.js';
import { ApplicantForm, fieldId } from './ApplicantForm.js';
import {
  carriedForm,
  emptyForm,
  fittingSamples,
  formFrom,
  loadedForm,
  rawApplicant,
  rawValue,
  schemaChanges,
  schemaDiffers,
  type FormValues,
  type SchemaChanges,
} from './form-state.js';
import { Report } from './Report.js';
import { resultAnnouncement } from './ProbabilityBar.js';
import { ResultPanel, outputLabel, type VerifyState } from './ResultPanel.js';
import { revealResult } from './reveal-result.js';
import { schemaChangedText, staleReason, staleText, type ExplainSettings } from './stale-result.js';

/** Marks used by bench/ui.ts: from the click on Explain to the chart drawn. */
export const EXPLAIN_MARKS = {
  start: 'branchlens:explain-start',
  drawn: 'branchlens:explain-drawn',
  measure: 'branchlens:explain',
};

/**
 * What the page shows, kept while the officer looks at another page. A model activated meanwhile (here or by
 * another program) takes the form over as it does with the page open: what was typed is kept where it fits.
 */
const kept: {
  form?: FormModel;
  values?: FormValues;
  result?: Result | null;
  schemaNote?: SchemaNote | null;
} = {};

/** The model the form's fields are for. */
interface FormModel {
  sha256: string;
  schema: BundleSchema;
}

/** The newly active model's form differs from the one the officer was filling in. */
interface SchemaNote {
  model: string;
  changes: SchemaChanges;
}

interface Result {
  doc: ExplanationDocument;
  /** The applicant and the settings it was explained with (to re-ask with all features or another language). */
  applicant: Record<string, unknown>;
  locale: Settings['locale'];
  showAll: boolean;
  /** The options sent (each explicitly): a result asked with other settings than the current is out of date. */
  options: ExplainSettings;
  /** The schema of the model the page had when it asked (the result's labels, the printed applicant). */
  schema: BundleSchema;
}

/** Whether the form still holds the applicant that was explained (the same clean values). */
function sameApplicant(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

export default function ExplainPage() {
  const { api, settings, t, model, notify } = useApp();
  const reloadModel = model.reload;
  const locale = settings.locale;
  const schema = model.info?.schema;
  // The model the form is for, by its sha256: the same model loaded again (a new object) keeps what was typed.
  const modelSha256 = schema ? model.info?.model.sha256 : undefined;
  const [values, setValues] = useState<FormValues>(() => kept.values ?? {});
  const [formModel, setFormModel] = useState<FormModel | undefined>(() => kept.form);
  const [schemaNote, setSchemaNote] = useState<SchemaNote | null>(() => kept.schemaNote ?? null);
  // Problems are kept as codes and worded when shown, so that they follow a change of language.
  const [issues, setIssues] = useState<Record<string, FieldIssue>>({});
  const [otherProblems, setOtherProblems] = useState<string[]>([]);
  /** The summary of problems shows after a submit, not on a field's blur (it would move the Explain button). */
  const [showSummary, setShowSummary] = useState(false);
  /** The last submit had every field empty. */
  const [noData, setNoData] = useState(false);
  /** Bumped to focus the summary once it is committed. */
  const [summaryFocus, setSummaryFocus] = useState(0);
  const [result, setResult] = useState<Result | null>(() => kept.result ?? null);
  const [verify, setVerify] = useState<VerifyState>({ state: 'pending' });
  const [busy, setBusy] = useState(false);
  /** The last call's failure, worded when shown (in the language of the moment). */
  const [failure, setFailure] = useState<{ error: unknown } | null>(null);
  /** The one-page report is rendered only for printing (it has its own chart). */
  const [printing, setPrinting] = useState(false);
  /**
   * The explanation a submit brought, read out by the live region below (which stays in the page, since a region
   * that appears with its text is not announced). Emptied while explaining, so that the same decision twice is
   * announced twice.
   */
  const [announced, setAnnounced] = useState<ExplanationDocument | null>(null);
  /** Bumped with a submit's result, to bring it into view once it is committed (reveal-result.ts). */
  const [reveal, setReveal] = useState(0);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const summary = useRef<HTMLDivElement>(null);
  const explainButton = useRef<HTMLButtonElement>(null);
  const request = useRef(0);

  useEffect(preloadCharts, []);

  useEffect(() => {
    if (summaryFocus > 0) summary.current?.focus();
  }, [summaryFocus]);

  useEffect(() => {
    if (reveal > 0) revealResult(resultHeading.current);
  }, [reveal]);

  // The browser's own print command (Ctrl+P) prints the report too: it is rendered before the page is laid out.
  useEffect(() => {
    const before = () => flushSync(() => setPrinting(true));
    const after = () => setPrinting(false);
    window.addEventListener('beforeprint', before);
    window.addEventListener('afterprint', after);
    return () => {
      window.removeEventListener('beforeprint', before);
      window.removeEventListener('afterprint', after);
    };
  }, []);

  const usable = useMemo(
    () => (schema ? fittingSamples(schema, samples as Record<string, unknown>[]) : []),
    [schema],
  );
  // The samples and then the reference applicant as the sample picker loads them (by its option values).
  const sampleForms = useMemo(
    () => (schema ? [...usable.map((s) => formFrom(schema, s)), formFrom(schema, schema.baseline)] : []),
    [schema, usable],
  );

  // The first form starts empty: a sample only comes from the picker, so that a field the officer skips while typing
  // a customer is never silently a sample's value (and a required one is reported). Another model activated since
  // (here, or by another program: see context.tsx) keeps what was typed into the fields it still has, says in a
  // line if its fields differ, and leaves the result shown, marked as explained with the previous model. Set
  // while rendering (not in an effect), so that the form never shows empty for a frame.
  if (schema && modelSha256 !== undefined && modelSha256 !== formModel?.sha256) {
    setFormModel({ sha256: modelSha256, schema });
    if (formModel) {
      setValues(carriedForm(schema, values));
      const changes = schemaChanges(formModel.schema, schema);
      const { id, version } = model.info!.model;
      setSchemaNote(schemaDiffers(changes) ? { model: `${id}@${version}`, changes } : null);
    } else {
      setValues(emptyForm(schema));
      setResult(null);
    }
    setIssues({});
    setOtherProblems([]);
    setShowSummary(false);
    setNoData(false);
  }

  useEffect(() => {
    kept.form = formModel;
    kept.values = values;
    kept.result = result;
    kept.schemaNote = schemaNote;
  }, [formModel, values, result, schemaNote]);

  const checkField = useCallback(
    (name: string, value: string) => {
      const f = schema?.features.find((x) => x.name === name);
      if (!f) return;
      const raw = rawValue(f, value);
      let issue: FieldIssue | undefined;
      if (isMissing(raw)) {
        if (f.required) issue = { code: 'missing' };
      } else {
        const r = validateValue(f, raw);
        if (r.problem) issue = checkedProblems([r.problem])[f.name];
      }
      setIssues((e) => {
        const next = { ...e };
        if (issue) next[name] = issue;
        else delete next[name];
        return next;
      });
    },
    [schema],
  );

  const explain = useCallback(
    async (applicant: Record<string, unknown>, showAll: boolean, fromClick: boolean) => {
      if (!schema) return;
      const id = ++request.current;
      setBusy(true);
      setFailure(null);
      if (fromClick) {
        performance.clearMarks(EXPLAIN_MARKS.start);
        performance.mark(EXPLAIN_MARKS.start);
        setAnnounced(null);
      }
      const options = {
        top_k: showAll ? 0 : settings.top_k,
        method: settings.method,
        n_steps: settings.n_steps,
      };
      try {
        const { documents } = await api.explain({ applicants: [applicant], options: { ...options, locale } });
        if (id !== request.current) return;
        const doc = documents[0]!;
        // The service already explains with a model activated elsewhere, which the page has not loaded yet: loaded
        // now (the form follows it), not at the next check.
        if (doc.model.sha256 !== modelSha256) void reloadModel();
        // Rendered in slices: the result panel is the largest render of the page. Busy ends in the same commit
        // as the new result shows, never before it: a slow machine would otherwise show the previous result,
        // with its buttons, as if it were the answer.
        startTransition(() => {
          setResult({ doc, applicant, locale, showAll, options, schema });
          setVerify({ state: 'pending' });
          setBusy(false);
          if (fromClick) {
            setAnnounced(doc);
            setSchemaNote(null);
            setReveal((n) => n + 1);
          }
        });
        api.verifyDocument({ document: doc }).then(
          (result) => id === request.current && setVerify({ state: 'done', result }),
          () => id === request.current && setVerify({ state: 'failed' }),
        );
      } catch (e) {
        if (id !== request.current) return;
        setBusy(false);
        if (e instanceof ApiError && e.body.error === 'invalid_request' && e.body.problems.length > 0) {
          const mapped = serverProblems(e.body.problems, schema);
          setIssues(mapped.byField);
          setOtherProblems(mapped.other);
          setShowSummary(true);
          setSummaryFocus((n) => n + 1);
        } else {
          setFailure({ error: e });
        }
      }
    },
    [api, schema, modelSha256, reloadModel, settings.top_k, settings.method, settings.n_steps, locale],
  );

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    // The button stays focusable while busy (aria-disabled), so that the keyboard focus is not lost.
    if (!schema || busy) return;
    const applicant = rawApplicant(schema, values);
    if (Object.keys(applicant).length === 0) {
      setIssues({});
      setOtherProblems([]);
      setNoData(true);
      setShowSummary(true);
      setSummaryFocus((n) => n + 1);
      return;
    }
    setNoData(false);
    const checked = validateApplicant(schema, applicant);
    setIssues(checkedProblems(checked.problems));
    setOtherProblems([]);
    setShowSummary(checked.problems.length > 0);
    if (checked.problems.length > 0) {
      setSummaryFocus((n) => n + 1);
      return;
    }
    void explain(checked.values, false, true);
  };

  // The language changed while a result is shown: ask again, so labels and descriptions follow. Not for a result
  // of the previous model: its applicant may not fit the model active now.
  useEffect(() => {
    if (result && result.locale !== locale && !busy && result.doc.model.sha256 === modelSha256)
      void explain(result.applicant, result.showAll, false);
  }, [locale, result, busy, explain, modelSha256]);

  // A result is out of date beside a form that no longer holds its applicant, once another model is active, or
  // once the explain settings changed (another workstation, IT): marked so, with why, and not printed or
  // exported, until explained again.
  const activeModel = model.loading ? undefined : model.info?.model;
  const why = useMemo(() => {
    if (!result || !schema) return null;
    const checked = validateApplicant(schema, rawApplicant(schema, values));
    const holds = checked.problems.length === 0 && sameApplicant(checked.values, result.applicant);
    const current = { top_k: settings.top_k, method: settings.method, n_steps: settings.n_steps };
    return staleReason({ ...result, model: result.doc.model }, activeModel, current, holds);
  }, [result, schema, values, activeModel, settings.top_k, settings.method, settings.n_steps]);
  const stale = why !== null;
  // The schema the result was explained with: the current one's labels may not fit a previous model's features.
  const resultSchema = result && result.doc.model.sha256 !== modelSha256 ? result.schema : schema;

  const bars = useMemo(
    () =>
      result
        ? attributionBars(result.doc, {
            masked: t('explain.maskedFeature'),
            rest: (n) => t('explain.rest', { count: n }),
            restDescription: (n) => t('explain.restDescription', { count: n }),
          })
        : [],
    [result, t],
  );

  const onChartDrawn = useCallback(() => {
    if (performance.getEntriesByName(EXPLAIN_MARKS.start, 'mark').length === 0) return;
    performance.mark(EXPLAIN_MARKS.drawn);
    performance.measure(EXPLAIN_MARKS.measure, EXPLAIN_MARKS.start, EXPLAIN_MARKS.drawn);
    performance.clearMarks(EXPLAIN_MARKS.start);
  }, []);

  const exportJson = async () => {
    if (!result || stale) return;
    try {
      const where = await saveFile(
        `branchlens-explanation-${result.doc.id}.json`,
        JSON.stringify(result.doc, null, 2) + '\n',
        { type: 'application/json' },
      );
      if (where) notify('success', 'common.saved', { where });
    } catch (e) {
      // A folder the officer may not write to, a full disk: said, not swallowed.
      notify('error', (t) => describeError(e, t));
    }
  };

  const print = async () => {
    if (!result || stale) return;
    try {
      await loadCharts();
      flushSync(() => setPrinting(true));
      const where = await printPage(`branchlens-report-${fileStamp()}-${result.doc.id.slice(0, 8)}`);
      if (where) notify('success', 'common.saved', { where });
      // The desktop app has printed when printToPdf resolves; a browser says so with "afterprint".
      if (desktopBridge()) setPrinting(false);
    } catch (e) {
      setPrinting(false);
      notify('error', (t) => describeError(e, t));
    }
  };

  const loadSample = (index: number) => {
    if (!schema) return;
    const sample = usable[index];
    setValues(sample ? formFrom(schema, sample) : formFrom(schema, schema.baseline));
    setIssues({});
    setOtherProblems([]);
    setShowSummary(false);
    setNoData(false);
  };

  if (!schema) {
    return (
      <div className="page">
        <h1 tabIndex={-1}>{t('explain.title')}</h1>
        {model.error ? (
          <p className="alert alert-error" role="alert">
            {describeError(model.error, t)}
          </p>
        ) : (
          <p aria-busy="true">{t('app.loading')}</p>
        )}
      </div>
    );
  }

  // The picker shows the sample the form holds, so that the arrow keys (which choose as they move on a closed
  // select) go on to the next one, instead of loading the first again from the placeholder at each press.
  const loaded = loadedForm(schema, values, sampleForms);
  const errors = fieldMessages(issues, schema, locale, t);
  const errorList = Object.entries(errors);
  return (
    <div className="page page-explain">
      <div className="page-head no-print">
        <h1 tabIndex={-1}>{t('explain.title')}</h1>
        <p className="page-lead">{t('explain.lead')}</p>
      </div>
      <div className="explain-layout">
        <form
          className="card applicant no-print"
          onSubmit={onSubmit}
          noValidate
          aria-labelledby="applicant-title"
        >
          <div className="card-head">
            <h2 id="applicant-title">{t('explain.applicant')}</h2>
            <div className="sample-picker">
              <label htmlFor="sample-select" className="visually-hidden">
                {t('explain.loadSample')}
              </label>
              <select
                id="sample-select"
                value={loaded < 0 ? '' : String(loaded)}
                onChange={(e) => {
                  if (e.target.value !== '') loadSample(Number(e.target.value));
                }}
              >
                <option value="">{t('explain.loadSample')}</option>
                {usable.map((_, i) => (
                  <option key={i} value={i}>
                    {t('explain.sample', { n: i + 1 })}
                  </option>
                ))}
                <option value={usable.length}>{t('explain.baselineApplicant')}</option>
              </select>
            </div>
          </div>
          {schemaNote && (
            <p className="alert alert-warn" role="status" data-testid="schema-changed">
              {schemaChangedText(schemaNote.model, schemaNote.changes, locale, t)}
            </p>
          )}
          {showSummary && (noData || errorList.length > 0 || otherProblems.length > 0) && (
            <div
              className="alert alert-error"
              role="alert"
              tabIndex={-1}
              ref={summary}
              data-testid="error-summary"
            >
              {noData ? (
                <p>{t('explain.noData')}</p>
              ) : (
                <p>{t('explain.fixErrors', { count: errorList.length + otherProblems.length })}</p>
              )}
              <ul>
                {errorList.map(([name, message]) => {
                  const f = schema.features.find((x) => x.name === name);
                  return (
                    <li key={name}>
                      <a
                        href={`#${fieldId(name)}`}
                        onClick={(e) => {
                          e.preventDefault();
                          document.getElementById(fieldId(name))?.focus();
                        }}
                      >
                        {f ? featureLabel(f, locale) : name}
                      </a>
                      {t('common.colon')}
                      {message}
                    </li>
                  );
                })}
                {otherProblems.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            </div>
          )}
          <ApplicantForm
            schema={schema}
            values={values}
            errors={errors}
            locale={locale}
            t={t}
            onChange={(name, v) => {
              setValues((old) => ({ ...old, [name]: v }));
              setNoData(false);
              if (errors[name]) checkField(name, v);
            }}
            onBlur={(name, next) => {
              // Leaving a field for Explain: the submit checks it a moment later, and an error shown now would
              // move the button away from under the pointer.
              if (next !== null && next === explainButton.current) return;
              checkField(name, values[name] ?? '');
            }}
          />
          <div className="form-actions">
            <button
              type="submit"
              className="btn btn-primary"
              aria-disabled={busy || undefined}
              ref={explainButton}
              data-testid="explain-button"
            >
              {busy ? t('explain.explaining') : t('explain.submit')}
            </button>
            <button
              type="button"
              className="btn"
              onClick={() => {
                setValues(emptyForm(schema));
                setIssues({});
                setOtherProblems([]);
                setShowSummary(false);
                setNoData(false);
              }}
            >
              {t('explain.clear')}
            </button>
            <span className="form-note">
              {settings.top_k === 0
                ? t('explain.settingsNoteAll', { steps: settings.n_steps })
                : t('explain.settingsNote', { k: settings.top_k, steps: settings.n_steps })}
            </span>
          </div>
        </form>
        <div className="result-column">
          <p className="visually-hidden" role="status" aria-atomic="true" data-testid="result-announcement">
            {announced && result?.doc === announced
              ? resultAnnouncement(announced, outputLabel(schema, locale, t), locale, t)
              : ''}
          </p>
          {failure && (
            <p className="alert alert-error" role="alert">
              {describeError(failure.error, t)}
            </p>
          )}
          {result ? (
            <>
              <div className="card no-print">
                <ResultPanel
                  doc={result.doc}
                  bars={bars}
                  verify={verify}
                  schema={resultSchema}
                  locale={locale}
                  theme={settings.theme}
                  t={t}
                  showAll={result.showAll}
                  busy={busy}
                  stale={stale}
                  staleText={why ? staleText(why, t) : undefined}
                  onToggleAll={() => void explain(result.applicant, !result.showAll, false)}
                  onExport={() => void exportJson()}
                  onPrint={() => void print()}
                  onChartDrawn={onChartDrawn}
                  headingRef={resultHeading}
                />
              </div>
              {printing && !stale && (
                <Report
                  doc={result.doc}
                  applicant={result.applicant}
                  bars={bars}
                  verify={verify}
                  schema={resultSchema}
                  locale={locale}
                  t={t}
                />
              )}
            </>
          ) : (
            <div className="card empty-state no-print">
              <h2>{t('explain.emptyTitle')}</h2>
              <p>{t('explain.empty')}</p>
            </div>
          )}
          {/* Ctrl+P with no result, or one the form no longer holds: a line saying so, not a blank page. */}
          {printing && (!result || stale) && (
            <div className="report report-notice" data-testid="print-notice">
              <p>{t('explain.printStale')}</p>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
