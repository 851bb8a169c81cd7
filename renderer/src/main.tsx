// The renderer's entry: pick the transport (IPC in the desktop app, HTTP in a browser), apply the remembered
// language and theme before the first paint, start the first calls and the first page's chunk, then render the
// shell. Pages load on demand.
import { startTransition, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api/index.js';
import { App, preloadPage } from './app/App.js';
import { AppProvider, applyDocumentSettings, initialSettings, startBoot } from './app/context.js';
import { routeOf } from './app/routes.js';
import './styles/app.css';
import './styles/print.css';

const settings = initialSettings();
applyDocumentSettings(settings);
const { api, transport } = createApi();
// The first page's chunk and the first calls load side by side, while React renders the shell.
preloadPage(routeOf(window.location.hash));
const boot = startBoot(api);

// A transition: React renders the first screen in slices, so the page never stops answering for long.
const root = createRoot(document.getElementById('root')!);
startTransition(() =>
  root.render(
    <StrictMode>
      <AppProvider api={api} transport={transport} initial={settings} boot={boot}>
        <App />
      </AppProvider>
    </StrictMode>,
  ),
);
