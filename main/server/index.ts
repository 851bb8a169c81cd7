// The HTTP transport: `branchlens serve`, and the desktop app's fallback when Electron is missing.
export { startServer, type RunningServer, type ServerOptions } from './start.js';
export { DEFAULT_BODY_LIMIT, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT_MS } from './defaults.js';
export { isLoopbackHost } from './auth.js';
export { buildApp } from './app.js';
