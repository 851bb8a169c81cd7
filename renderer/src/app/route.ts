// The current page, from the URL's hash (routes.ts), as React state.
import { useSyncExternalStore } from 'react';
import { DEFAULT_ROUTE, routeOf, type Route } from './routes.js';

export { ROUTES, routeHref, type Route } from './routes.js';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function useRoute(): Route {
  return useSyncExternalStore(
    subscribe,
    () => routeOf(window.location.hash),
    () => DEFAULT_ROUTE,
  );
}
