// Pages are addressed by the URL's hash (#/batch): it works the same under http:// and the desktop's app://,
// needs no server routes, and the browser's back button moves between pages. Pure.
export const ROUTES = ['explain', 'batch', 'audit', 'models', 'monitor', 'settings'] as const;
export type Route = (typeof ROUTES)[number];
export const DEFAULT_ROUTE: Route = 'explain';

export function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : DEFAULT_ROUTE;
}

export function routeHref(route: Route): string {
  return `#/${route}`;
}
