// What every page shares: the Api, the settings (language, theme, explain defaults), the active model and its
// schema, and short notices. Settings start from localStorage (instant) and are then taken from the service.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  startTransition,
  type ReactNode,
} from 'react';
import { ApiError, type Api, type ApiResponses, type Settings } from '../../../shared/contract.js';
import type { MessageKey, MessageParams } from '../../../shared/i18n/index.js';
import { makeT, type T } from '../i18n/i18n.js';
import { readStoredSettings, writeStoredSettings } from './stored-settings.js';
import { describeError } from '../lib/errors.js';
import type { Transport } from '../api/index.js';
import { follow, followEveryMs, sameSettings, servedModelChanged, type FollowEnv } from './follow.js';
import { nextHealthAlert, type HealthAlert } from './health-alert.js';

export type ModelInfo = ApiResponses['getModel'];

export interface ModelState {
  info: ModelInfo | null;
  error: unknown;
  loading: boolean;
  /** Loads the active model again; resolves to the error it failed with, or null once it is shown. */
  reload(): Promise<unknown>;
}

/**
 * A notice's words, chosen each time it is drawn (so that a language switch rewords a notice already on screen):
 * a message key, with `params`, or a function of `t` for words made of more than one message (an error).
 */
export type NoticeText = MessageKey | ((t: T) => string);

export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: NoticeText;
  params?: MessageParams;
}

/** A notice in the language of `t`. */
export function noticeText(notice: Pick<Notice, 'text' | 'params'>, t: T): string {
  return typeof notice.text === 'function' ? notice.text(t) : t(notice.text, notice.params);
}

export interface AppContextValue {
  api: Api;
  transport: Transport;
  settings: Settings;
  updateSettings(patch: Partial<Settings>): Promise<boolean>;
  /**
   * Reads the service's settings again, as at start (after an API token, when the first read was refused):
   * resolves to the error the read failed with (the settings in use then stay), or null once they are applied.
   */
  reloadSettings(): Promise<unknown>;
  t: T;
  model: ModelState;
  notices: Notice[];
  notify(kind: Notice['kind'], text: NoticeText, params?: MessageParams): void;
  dismiss(id: number): void;
  /** What the service's last health read says the officer must know (a damaged database, a full disk), or null. */
  healthAlert: HealthAlert | null;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <AppProvider>');
  return value;
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** Language and theme on the document itself, so the print stylesheet, dialogs and screen readers follow. */
export function applyDocumentSettings(settings: Settings): void {
  document.documentElement.lang = settings.locale;
  document.documentElement.dataset.theme = settings.theme;
}

export function initialSettings(): Settings {
  return readStoredSettings(safeStorage());
}

/** The first calls, started before React renders so that they overlap with loading the first page. */
export interface Boot {
  model: Promise<ModelInfo>;
  settings: Promise<Settings>;
  /** Read at once, not at the first follow (30 s later): a damaged database is said before the first explain. */
  health: Promise<ApiResponses['health']>;
}

export function startBoot(api: Api): Boot {
  const boot = { model: api.getModel({}), settings: api.getSettings({}), health: api.health({}) };
  // Failures are handled where the promises are used; this keeps them from counting as unhandled meanwhile.
  boot.model.catch(() => undefined);
  boot.settings.catch(() => undefined);
  boot.health.catch(() => undefined);
  return boot;
}

/** The page's window for following the service: in view, focused, and its timer. */
function browserFollowEnv(): FollowEnv {
  return {
    visible: () => document.visibilityState === 'visible',
    now: () => Date.now(),
    onShown(listener) {
      window.addEventListener('focus', listener);
      document.addEventListener('visibilitychange', listener);
      return () => {
        window.removeEventListener('focus', listener);
        document.removeEventListener('visibilitychange', listener);
      };
    },
    every(ms, tick) {
      const id = window.setInterval(tick, ms);
      return () => window.clearInterval(id);
    },
  };
}

export function AppProvider(props: {
  api: Api;
  transport: Transport;
  initial: Settings;
  boot: Boot;
  children: ReactNode;
}) {
  const { api, transport } = props;
  const [settings, setSettings] = useState<Settings>(props.initial);
  const [notices, setNotices] = useState<Notice[]>([]);
  const nextNotice = useRef(1);
  const t = useMemo(() => makeT(settings.locale), [settings.locale]);

  const dismiss = useCallback((id: number) => setNotices((n) => n.filter((x) => x.id !== id)), []);
  const notify = useCallback(
    (kind: Notice['kind'], text: NoticeText, params?: MessageParams) => {
      const id = nextNotice.current++;
      setNotices((n) => [...n.slice(-3), { id, kind, text, ...(params && { params }) }]);
      if (kind !== 'error') window.setTimeout(() => dismiss(id), 6000);
    },
    [dismiss],
  );

  /** The settings as last applied (ahead of the render, which a transition may defer). */
  const settingsRef = useRef(settings);
  const apply = useCallback((next: Settings) => {
    settingsRef.current = next;
    // Every page re-renders in the new language or theme: in slices, not in one long task.
    startTransition(() => setSettings(next));
    writeStoredSettings(safeStorage(), next);
  }, []);
  // The document's language and theme change in the same commit as the pages they describe, not ahead of a
  // deferred render: a screen reader (or a test) that sees lang="en" then finds English on the page.
  useLayoutEffect(() => applyDocumentSettings(settings), [settings]);

  /**
   * Counts the user's settings changes. A server answer is applied only while it is the newest word: the boot
   * read until the first change, an update's answer until the next one (else a slow answer would undo a click
   * made after it was asked for).
   */
  const changes = useRef(0);

  /**
   * Applies the service's settings from `pending` unless the user has changed one since they were asked for
   * (`asked`: the count of changes then). Resolves to the error the read failed with, or null.
   */
  const adopt = useCallback(
    async (pending: Promise<Settings>, asked: number, live: () => boolean = () => true) => {
      try {
        const stored = await pending;
        if (live() && changes.current === asked) apply(stored);
        return null;
      } catch (e) {
        return e; // The stored copy stays in use; the model load reports a server that is down.
      }
    },
    [apply],
  );

  const boot = useRef<Boot | null>(props.boot);
  useEffect(() => {
    let live = true;
    void adopt(props.boot.settings, 0, () => live);
    return () => {
      live = false;
    };
  }, [props.boot, adopt]);

  const [healthAlert, setHealthAlert] = useState<HealthAlert | null>(null);
  const noteHealth = useCallback((read: PromiseSettledResult<ApiResponses['health']>) => {
    setHealthAlert((shown) => nextHealthAlert(shown, read));
  }, []);
  useEffect(() => {
    let live = true;
    void Promise.allSettled([props.boot.health]).then(([read]) => {
      if (live) noteHealth(read);
    });
    return () => {
      live = false;
    };
  }, [props.boot, noteHealth]);

  const reloadSettings = useCallback(() => adopt(api.getSettings({}), changes.current), [api, adopt]);

  const updateSettings = useCallback(
    async (patch: Partial<Settings>) => {
      const before = settingsRef.current;
      const change = ++changes.current;
      apply({ ...before, ...patch });
      try {
        const saved = await api.updateSettings(patch);
        if (change === changes.current) apply(saved);
        return true;
      } catch (e) {
        // Values the service refuses are not kept: the Explain page would ask with them, and every explanation
        // would be refused. Unless newer ones were chosen meanwhile. (When the service cannot be reached, the page
        // keeps what was chosen: the language and theme are the officer's to see at once.)
        const refused = e instanceof ApiError && e.body.error === 'invalid_request';
        if (refused && change === changes.current) apply(before);
        notify('error', (t) => describeError(e, t));
        return false;
      }
    },
    [api, apply, notify],
  );

  const [info, setInfo] = useState<ModelInfo | null>(null);
  const [modelError, setModelError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  /** The model shown (ahead of the render), and the loads under way: for following the service (below). */
  const infoRef = useRef<ModelInfo | null>(null);
  const reloading = useRef(0);
  const reload = useCallback(async () => {
    setLoading(true);
    reloading.current++;
    try {
      // The first load uses the call started at boot; later ones (after a model change) ask again.
      const pending = boot.current?.model ?? api.getModel({});
      boot.current = null;
      const loaded = await pending;
      infoRef.current = loaded;
      // Loading ends in the commit that shows the new model, not ahead of it (see ExplainPage's busy).
      startTransition(() => {
        setInfo(loaded);
        setModelError(null);
        setLoading(false);
      });
      return null;
    } catch (e) {
      setModelError(e);
      setLoading(false);
      return e;
    } finally {
      reloading.current--;
    }
  }, [api]);
  useEffect(() => {
    void reload();
  }, [reload]);

  // Another program may activate a model or change the settings meanwhile (the CLI, the desktop app, another
  // workstation): the service follows within seconds, and the page follows the service, or the header and the
  // Explain form would show the old model, and every explanation would be asked with the old settings (the pages
  // send each option explicitly). Only what changed is applied: a settings answer under way when the officer
  // changes one is dropped, as at boot. The same health read keeps the banner of a damaged database or a full
  // disk (HealthBanner) up to date: it comes up, changes or goes away within the interval.
  useEffect(() => {
    const check = async () => {
      const asked = changes.current;
      const [health, stored] = await Promise.allSettled([api.health({}), api.getSettings({})]);
      noteHealth(health);
      if (health.status === 'fulfilled' && reloading.current === 0) {
        if (servedModelChanged(health.value.model, infoRef.current?.model)) {
          const had = infoRef.current !== null;
          if ((await reload()) === null && had) {
            const { id, version } = health.value.model;
            notify('info', 'app.followedModel', { model: `${id}@${version}` });
          }
        }
      }
      if (
        stored.status === 'fulfilled' &&
        changes.current === asked &&
        !sameSettings(settingsRef.current, stored.value)
      ) {
        apply(stored.value);
        notify('info', 'app.followedSettings');
      }
    };
    // A test sets a shorter interval by an init script (window.__BRANCHLENS_FOLLOW_MS__); the app never does.
    const everyMs = followEveryMs(
      (window as { __BRANCHLENS_FOLLOW_MS__?: unknown }).__BRANCHLENS_FOLLOW_MS__,
    );
    return follow(browserFollowEnv(), everyMs, check);
  }, [api, apply, notify, reload, noteHealth]);

  const model = useMemo<ModelState>(
    () => ({ info, error: modelError, loading, reload }),
    [info, modelError, loading, reload],
  );

  const value = useMemo<AppContextValue>(
    () => ({
      api,
      transport,
      settings,
      updateSettings,
      reloadSettings,
      t,
      model,
      notices,
      notify,
      dismiss,
      healthAlert,
    }),
    [
      api,
      transport,
      settings,
      updateSettings,
      reloadSettings,
      t,
      model,
      notices,
      notify,
      dismiss,
      healthAlert,
    ],
  );
  return <AppContext.Provider value={value}>{props.children}</AppContext.Provider>;
}
