// The server's defaults, apart from the server itself so that the CLI can show them without loading Fastify.
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
/** 1 MiB: a batch of 1000 applicants fits. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** 30 s: the longest a client may take to send one whole request (headers and body), else 408. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The longest part of a path a route reads (a model's id has no length limit, and KServe's paths carry it). */
export const MAX_PATH_PARAM_CHARS = 500;
