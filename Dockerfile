# syntax=docker/dockerfile:1
# BranchLens headless: `branchlens serve` (Seldon v1 protocol, the app API, /metrics and the UI) for scale-out
# behind Kubernetes or Seldon Core. See docs/deploy.md. Never built on the machine this was written on (no Docker
# engine there).
#
#   docker build -t branchlens:0.1.0 .
#   docker build --build-arg TFJS_NODE=1 -t branchlens:0.1.0-tfnode .   # with the native tensorflow backend
#   docker run --stop-timeout 30 -p 8080:8080 -v branchlens-data:/var/lib/branchlens branchlens:0.1.0
#
# Node 22: Node 20 reached end of life on 2026-04-30, and some production dependencies (content-disposition@3 under
# @fastify/static, cookie@2 under fastify) declare engines node >=22. package.json keeps `"node": ">=20.19"` on
# purpose: the repository's CI and development machines still run Node 20, where those packages work (npm only
# warns); the image is where the supported runtime is pinned.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: install, compile the CLI/core/server and the UI, then drop the dev dependencies ------------------------
FROM ${NODE_IMAGE} AS build
# 0 (default): no @tensorflow/tfjs-node. The server uses the wasm backend, exactly as on an offline branch machine,
# and the build downloads nothing but Debian and npm packages. 1: build tfjs-node, whose install script downloads
# libtensorflow, and fail the image build if it does not load.
ARG TFJS_NODE=0
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded for this platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# nodedir: node-gyp uses the headers that ship in the image instead of downloading them.
ENV ELECTRON_SKIP_BINARY_DOWNLOAD=1 \
    npm_config_nodedir=/usr/local \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
# Install scripts run below, once the sources are in (the `prepare` script would compile them). Optional
# dependencies stay in for now: the build tools' native binaries (esbuild's, rolldown's) are optional dependencies.
RUN npm ci --ignore-scripts
COPY . .
# The native modules: better-sqlite3 must build; tfjs-node only when asked for, and then it must load.
RUN npm rebuild better-sqlite3 \
  && case "$TFJS_NODE" in \
       0) ;; \
       1) npm rebuild @tensorflow/tfjs-node && node -e "require('@tensorflow/tfjs-node')" ;; \
       *) echo "TFJS_NODE must be 0 or 1, not '$TFJS_NODE'" >&2; exit 1 ;; \
     esac
RUN npm run build && npm run --if-present build:renderer
# Last, drop what the server does not need. --ignore-scripts: nothing is rebuilt, so better-sqlite3 keeps the addon
# built above. Without tfjs-node, --omit=optional also drops it (a plain `--omit=dev` prune would put the optional
# package back from the lockfile, unbuilt).
RUN if [ "$TFJS_NODE" = 1 ]; then npm prune --omit=dev --ignore-scripts; \
    else npm prune --omit=dev --omit=optional --ignore-scripts; fi

# ---- runtime: the compiled app, production dependencies, the demo model; non-root, data on a volume ---------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    BRANCHLENS_DATA=/var/lib/branchlens
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/assets/models ./assets/models
COPY --from=build /app/assets/samples ./assets/samples
# The database, its audit log and the keys. uid 1000 is the image's `node` user; numeric so that Kubernetes'
# runAsNonRoot can check it. keys/ exists and belongs to uid 1000 so that a fresh named volume, which starts as a
# copy of this directory, lets the server write the keys it generates.
RUN mkdir -p /var/lib/branchlens/keys \
  && chown -R 1000:1000 /var/lib/branchlens \
  && chmod 0700 /var/lib/branchlens /var/lib/branchlens/keys
USER 1000:1000
VOLUME ["/var/lib/branchlens"]
EXPOSE 8080
# Asks port 8080: a container run with another --port needs its own check (docker run --health-cmd, or a
# HEALTHCHECK in a derived image), or it is reported unhealthy while it serves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/branchlens.js"]
# Any non-loopback bind requires the API token anyway; --token-required says so. The token is
# <data>/keys/api-token: generated and printed once on first start, or mounted from a secret (docs/deploy.md).
# Set --workers to the container's CPU limit (Node sees the host's cores, not a CPU quota).
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--token-required"]
