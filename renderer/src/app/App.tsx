// The shell: header with the page navigation, the language switch and the active model; the banner of a service
// in trouble; the current page, loaded on demand; notices. Moving to another page moves the keyboard focus to its heading.
import { Component, lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { isUnauthorized } from '../lib/errors.js';
import { useApp } from './context.js';
import { ROUTES, routeHref, useRoute, type Route } from './route.js';
import { Notices } from './Notices.js';
import { HealthBanner } from './HealthBanner.js';
import type { MessageKey } from '../../../shared/i18n/index.js';

type PageModule = { default: () => ReactNode };

/** Each page is its own chunk, loaded on first visit. */
const LOADERS: Record<Route, () => Promise<PageModule>> = {
  explain: () => import('../pages/explain/ExplainPage.js'),
  batch: () => import('../pages/batch/BatchPage.js'),
  audit: () => import('../pages/audit/AuditPage.js'),
  models: () => import('../pages/models/ModelsPage.js'),
  monitor: () => import('../pages/monitor/MonitorPage.js'),
  settings: () => import('../pages/settings/SettingsPage.js'),
};

/** A page's chunk could not be fetched (the server was unreachable): worth another try, unlike a page's bug. */
class PageLoadError extends Error {}

type LazyPage = React.LazyExoticComponent<() => ReactNode>;

/**
 * The lazy page of each route. React.lazy keeps a failed import for good, so a page that failed to load is
 * forgotten (forgetPage) and the next visit or "Try again" imports it afresh.
 */
const pages = new Map<Route, LazyPage>();

function pageOf(route: Route): LazyPage {
  let page = pages.get(route);
  if (!page) {
    page = lazy(() =>
      LOADERS[route]().catch((e: unknown) => {
        throw new PageLoadError(e instanceof Error ? e.message : String(e));
      }),
    );
    pages.set(route, page);
  }
  return page;
}

function forgetPage(route: Route): void {
  pages.delete(route);
}

/** Starts loading a page's chunk now (the module system keeps it for React.lazy). */
export function preloadPage(route: Route): void {
  void LOADERS[route]().catch(() => undefined);
}

const NAV_KEYS: Record<Route, MessageKey> = {
  explain: 'nav.explain',
  batch: 'nav.batch',
  audit: 'nav.audit',
  models: 'nav.models',
  monitor: 'nav.monitor',
  settings: 'nav.settings',
};

class PageBoundary extends Component<{
  fallback: (error: unknown) => ReactNode;
  onError(error: unknown): void;
  children: ReactNode;
}> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override componentDidCatch(error: unknown) {
    this.props.onError(error);
  }
  override render() {
    return this.state.error ? this.props.fallback(this.state.error) : this.props.children;
  }
}

function LanguageSwitch() {
  const { settings, updateSettings, t } = useApp();
  const next = settings.locale === 'zh-CN' ? 'en' : 'zh-CN';
  const label = next === 'en' ? 'English' : '中文';
  return (
    <button
      type="button"
      className="btn btn-ghost lang-switch"
      lang={next}
      // The accessible name starts with the visible text, so that voice control ("click English") finds it.
      aria-label={`${label} – ${t('header.switchLanguage')}`}
      title={t('header.switchLanguage')}
      onClick={() => void updateSettings({ locale: next })}
    >
      {label}
    </button>
  );
}

function ModelBadge() {
  const { model, t } = useApp();
  if (model.error && !model.info) {
    // A service that wants its API token answers: "unreachable" would send branch IT after the network.
    return (
      <span className="model-badge model-badge-error" role="status">
        {isUnauthorized(model.error) ? t('header.tokenNeeded') : t('header.serverDown')}
      </span>
    );
  }
  if (!model.info) return null;
  return (
    <span className="model-badge" title={model.info.model.sha256}>
      <span className="model-badge-label">{t('header.activeModel')}</span>
      <span className="mono">
        {model.info.model.id}@{model.info.model.version}
      </span>
    </span>
  );
}

export function App() {
  const { t } = useApp();
  const route = useRoute();
  const Page = pageOf(route);
  /** Bumped by "Try again": a fresh boundary and a fresh import of the page. */
  const [attempt, setAttempt] = useState(0);
  const main = useRef<HTMLElement>(null);
  /**
   * The route whose heading last had the focus: the first page keeps the focus where the browser put it (a first
   * Tab reaches the skip link), and StrictMode's second run of the effect does not count as a change of page.
   */
  const focusedRoute = useRef(route);

  useEffect(() => {
    if (focusedRoute.current === route) return;
    // After the page's chunk has loaded, its heading takes the focus (screen readers announce the new page).
    const id = window.setTimeout(() => {
      focusedRoute.current = route;
      const heading = main.current?.querySelector<HTMLElement>('h1');
      (heading ?? main.current)?.focus();
    }, 0);
    return () => window.clearTimeout(id);
  }, [route]);

  useEffect(() => {
    document.title = `${t(NAV_KEYS[route])} · BranchLens`;
  }, [route, t]);

  return (
    <div className="app">
      <button
        type="button"
        className="skip-link"
        onClick={() => main.current?.querySelector<HTMLElement>('h1, [tabindex]')?.focus()}
      >
        {t('header.skipToContent')}
      </button>
      <header className="app-header">
        <div className="brand">
          <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
            <circle cx="10" cy="10" r="6.5" fill="none" stroke="currentColor" strokeWidth="2.2" />
            <path d="M15 15l5.5 5.5" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" />
            <path
              d="M7 12.5V9M10 12.5V7M13 12.5v-2"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
            />
          </svg>
          <span className="brand-name">BranchLens</span>
          <span className="brand-tagline">{t('app.tagline')}</span>
        </div>
        <nav className="app-nav" aria-label={t('nav.label')}>
          <ul>
            {ROUTES.map((r) => (
              <li key={r}>
                <a href={routeHref(r)} aria-current={r === route ? 'page' : undefined}>
                  {t(NAV_KEYS[r])}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-tools">
          <ModelBadge />
          <LanguageSwitch />
        </div>
      </header>
      <main className="app-main" ref={main} tabIndex={-1} aria-label={t(NAV_KEYS[route])}>
        {/* Outside the page's boundary: it stays (and is not announced again) when the officer changes page. */}
        <HealthBanner />
        <PageBoundary
          key={`${route}-${attempt}`}
          onError={() => forgetPage(route)}
          fallback={(e) => (
            <div className="page">
              <h1 tabIndex={-1}>{t(NAV_KEYS[route])}</h1>
              <p className="alert alert-error" role="alert" data-testid="page-failed">
                {e instanceof PageLoadError
                  ? t('app.pageLoadFailed')
                  : t('app.pageFailed', { message: e instanceof Error ? e.message : String(e) })}
              </p>
              <button type="button" className="btn" onClick={() => setAttempt((n) => n + 1)}>
                {t('app.retry')}
              </button>
            </div>
          )}
        >
          <Suspense
            fallback={
              <div className="page page-loading" aria-busy="true">
                {t('app.loading')}
              </div>
            }
          >
            <Page />
          </Suspense>
        </PageBoundary>
      </main>
      <Notices />
    </div>
  );
}
