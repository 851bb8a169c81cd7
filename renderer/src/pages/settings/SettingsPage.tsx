// Settings: language, the explanation defaults (top-K, integration method, steps) and the theme. They are the
// service's settings (getSettings / updateSettings), mirrored in this browser for an instant start.
import { useEffect, useState } from 'react';
import { LOCALES } from '../../../../shared/bundle.js';
import { THEMES, type Settings } from '../../../../shared/contract.js';
import { IG_METHOD_NAMES } from '../../../../shared/explain-options.js';
import { TOKEN_STORAGE_KEY } from '../../api/http.js';
import { useApp } from '../../app/context.js';
import { describeError, isUnauthorized } from '../../lib/errors.js';
import { methodName } from '../../lib/labels.js';
import { checkSteps, TOP_K_RANGE, wholeNumberIn } from './explain-defaults.js';

const LANGUAGE_NAMES: Record<(typeof LOCALES)[number], string> = { 'zh-CN': '简体中文', en: 'English' };

/** A whole-number setting typed as text: its hint, or why the text is refused, read out with the field. */
function WholeNumberField(props: {
  id: string;
  label: string;
  text: string;
  onText: (text: string) => void;
  valid: boolean;
  hint: string;
  invalid: string;
}) {
  const { id, label, text, onText, valid, hint, invalid } = props;
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="field-control">
        <input
          id={id}
          type="text"
          inputMode="numeric"
          value={text}
          onChange={(e) => onText(e.target.value)}
          aria-invalid={!valid || undefined}
          aria-describedby={`${id}-hint`}
        />
      </div>
      <p id={`${id}-hint`} className={valid ? 'field-hint' : 'field-error'}>
        {valid ? hint : invalid}
      </p>
    </div>
  );
}

export default function SettingsPage() {
  const { settings, updateSettings, reloadSettings, t, notify, transport, model } = useApp();
  const [topK, setTopK] = useState(String(settings.top_k));
  const [steps, setSteps] = useState(String(settings.n_steps));
  const [method, setMethod] = useState<Settings['method']>(settings.method);
  const [token, setToken] = useState('');
  const [saving, setSaving] = useState(false);
  // The radios show a choice at once: the app applies settings in a transition (every page re-renders), and a
  // controlled radio bound to the deferred value would snap back until that render commits.
  const [locale, setLocale] = useState(settings.locale);
  const [theme, setTheme] = useState(settings.theme);

  // Each field follows its own setting: one changed by another workstation (the app follows the service) must
  // not wipe what is being typed into the others.
  useEffect(() => setTopK(String(settings.top_k)), [settings.top_k]);
  useEffect(() => setSteps(String(settings.n_steps)), [settings.n_steps]);
  useEffect(() => setMethod(settings.method), [settings.method]);
  useEffect(() => setLocale(settings.locale), [settings.locale]);
  useEffect(() => setTheme(settings.theme), [settings.theme]);

  const topKValue = wholeNumberIn(topK, TOP_K_RANGE.min, TOP_K_RANGE.max);
  // Checked with the method chosen: a Riemann rule with one step would be saved, and every explanation refused.
  const stepsCheck = checkSteps(steps, method);
  const stepsValue = stepsCheck.value ?? null;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (topKValue === null || stepsValue === null) return;
    setSaving(true);
    const ok = await updateSettings({ top_k: topKValue, n_steps: stepsValue, method });
    setSaving(false);
    if (ok) notify('success', 'settings.saved');
  };

  const applyToken = async (value: string) => {
    try {
      if (value) sessionStorage.setItem(TOKEN_STORAGE_KEY, value);
      else sessionStorage.removeItem(TOKEN_STORAGE_KEY);
    } catch {
      notify('error', 'settings.tokenNotSaved');
      return;
    }
    // The model (and with it the Explain form and the header) and the service's settings (language, theme,
    // explain defaults) failed for want of the token: loaded again now, not on the next page reload; and a token
    // the service refuses is said at once, not as "token set". A refused read leaves the settings in use.
    const [error] = await Promise.all([model.reload(), reloadSettings()]);
    if (error === null) notify('success', 'settings.tokenSaved');
    else if (value && isUnauthorized(error)) notify('error', 'settings.tokenRefused');
    else notify('error', (t) => describeError(error, t));
  };

  return (
    <div className="page page-settings">
      <div className="page-head">
        <h1 tabIndex={-1}>{t('settings.title')}</h1>
        <p className="page-lead">{t('settings.lead')}</p>
      </div>
      <div className="settings-grid">
        <section className="card" aria-labelledby="settings-display">
          <h2 id="settings-display">{t('settings.display')}</h2>
          <fieldset className="radio-group">
            <legend>{t('settings.language')}</legend>
            {LOCALES.map((l) => (
              <label key={l} className="radio" lang={l}>
                <input
                  type="radio"
                  name="locale"
                  value={l}
                  checked={locale === l}
                  onChange={() => {
                    setLocale(l);
                    void updateSettings({ locale: l });
                  }}
                />
                <span>{LANGUAGE_NAMES[l]}</span>
              </label>
            ))}
          </fieldset>
          <fieldset className="radio-group">
            <legend>{t('settings.theme')}</legend>
            {THEMES.map((th) => (
              <label key={th} className="radio">
                <input
                  type="radio"
                  name="theme"
                  value={th}
                  checked={theme === th}
                  onChange={() => {
                    setTheme(th);
                    void updateSettings({ theme: th });
                  }}
                />
                <span>{th === 'light' ? t('settings.theme.light') : t('settings.theme.dark')}</span>
              </label>
            ))}
          </fieldset>
        </section>

        <form className="card" aria-labelledby="settings-explain" onSubmit={(e) => void save(e)} noValidate>
          <h2 id="settings-explain">{t('settings.explain')}</h2>
          <WholeNumberField
            id="settings-topk"
            label={t('settings.topK')}
            text={topK}
            onText={setTopK}
            valid={topKValue !== null}
            hint={t('settings.topKHint')}
            invalid={t('settings.topKInvalid')}
          />
          <div className="field">
            <label htmlFor="settings-method" className="field-label">
              {t('settings.method')}
            </label>
            <div className="field-control">
              <select
                id="settings-method"
                value={method}
                onChange={(e) => setMethod(e.target.value as Settings['method'])}
              >
                {IG_METHOD_NAMES.map((m) => (
                  <option key={m} value={m}>
                    {methodName(m, t)}
                  </option>
                ))}
              </select>
            </div>
            <p className="field-hint">{t('settings.methodHint')}</p>
          </div>
          <WholeNumberField
            id="settings-steps"
            label={t('settings.steps')}
            text={steps}
            onText={setSteps}
            valid={stepsValue !== null}
            hint={t('settings.stepsHint')}
            invalid={
              stepsCheck.problem === 'too_few'
                ? t('settings.stepsTooFew', { method: methodName(method, t), min: stepsCheck.min })
                : t('settings.stepsInvalid')
            }
          />
          <div className="form-actions">
            <button
              type="submit"
              className="btn btn-primary"
              disabled={saving || topKValue === null || stepsValue === null}
            >
              {t('settings.save')}
            </button>
          </div>
        </form>

        {transport === 'http' && (
          <section className="card" aria-labelledby="settings-connection">
            <h2 id="settings-connection">{t('settings.connection')}</h2>
            <p className="muted small">{t('settings.tokenLead')}</p>
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                void applyToken(token.trim());
              }}
            >
              <label className="grow">
                <span>{t('settings.token')}</span>
                <input
                  type="password"
                  value={token}
                  onChange={(e) => setToken(e.target.value)}
                  autoComplete="off"
                />
              </label>
              <button type="submit" className="btn">
                {t('settings.tokenSave')}
              </button>
            </form>
          </section>
        )}
      </div>
    </div>
  );
}
