// Settings: language, the explanation defaults (top-K, integration method, steps) and the theme. They are the
// service's settings (getSettings / updateSettings), mirrored in this browser for an instant start.
import { useEffect, useState } from 'react';
import { LOCALES } from '../../../../shared/bundle.js';
import { THEMES, type Settings } from '../../../../shared/contract.js';
import { IG_METHOD_NAMES } from '../../../../shared/explain-options.js';
import { TOKEN_STORAGE_KEY } from '../../api/http.js';
import { useApp } from '../../app/context.js';
import { methodName } from '../../lib/labels.js';

const LANGUAGE_NAMES: Record<(typeof LOCALES)[number], string> = { 'zh-CN': '简体中文', en: 'English' };

function intIn(text: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

export default function SettingsPage() {
  const { settings, updateSettings, t, notify, transport } = useApp();
  const [topK, setTopK] = useState(String(settings.top_k));
  const [steps, setSteps] = useState(String(settings.n_steps));
  const [method, setMethod] = useState<Settings['method']>(settings.method);
  const [token, setToken] = useState('');
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    setTopK(String(settings.top_k));
    setSteps(String(settings.n_steps));
    setMethod(settings.method);
  }, [settings.top_k, settings.n_steps, settings.method]);

  const topKValue = intIn(topK, 0, 100);
  const stepsValue = intIn(steps, 1, 1000);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (topKValue === null || stepsValue === null) return;
    setSaving(true);
    const ok = await updateSettings({ top_k: topKValue, n_steps: stepsValue, method });
    setSaving(false);
    if (ok) notify('success', t('settings.saved'));
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
                  checked={settings.locale === l}
                  onChange={() => void updateSettings({ locale: l })}
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
                  checked={settings.theme === th}
                  onChange={() => void updateSettings({ theme: th })}
                />
                <span>{th === 'light' ? t('settings.theme.light') : t('settings.theme.dark')}</span>
              </label>
            ))}
          </fieldset>
        </section>

        <form className="card" aria-labelledby="settings-explain" onSubmit={(e) => void save(e)} noValidate>
          <h2 id="settings-explain">{t('settings.explain')}</h2>
          <div className="field">
            <label htmlFor="settings-topk" className="field-label">
              {t('settings.topK')}
            </label>
            <div className="field-control">
              <input
                id="settings-topk"
                type="text"
                inputMode="numeric"
                value={topK}
                onChange={(e) => setTopK(e.target.value)}
                aria-invalid={topKValue === null || undefined}
                aria-describedby="settings-topk-hint"
              />
            </div>
            <p id="settings-topk-hint" className={topKValue === null ? 'field-error' : 'field-hint'}>
              {topKValue === null ? t('settings.topKInvalid') : t('settings.topKHint')}
            </p>
          </div>
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
          <div className="field">
            <label htmlFor="settings-steps" className="field-label">
              {t('settings.steps')}
            </label>
            <div className="field-control">
              <input
                id="settings-steps"
                type="text"
                inputMode="numeric"
                value={steps}
                onChange={(e) => setSteps(e.target.value)}
                aria-invalid={stepsValue === null || undefined}
                aria-describedby="settings-steps-hint"
              />
            </div>
            <p id="settings-steps-hint" className={stepsValue === null ? 'field-error' : 'field-hint'}>
              {stepsValue === null ? t('settings.stepsInvalid') : t('settings.stepsHint')}
            </p>
          </div>
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
                try {
                  if (token.trim()) sessionStorage.setItem(TOKEN_STORAGE_KEY, token.trim());
                  else sessionStorage.removeItem(TOKEN_STORAGE_KEY);
                  notify('success', t('settings.tokenSaved'));
                } catch {
                  notify('error', t('settings.tokenNotSaved'));
                }
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
