# syntax=docker/dockerfile:1
# BranchLens headless: `branchlens serve` (Seldon v1 protocol, the app API, /metrics and the UI) for scale-out
# behind Kubernetes or Seldon Core. See docs/deploy.md. Never built on the machine this was written on (no Docker
# engine there).
#
#   docker build -t branchlens:0.1.0 .
#   docker run -p 8080:8080 -v branchlens-data:/var/lib/branchlens branchlens:0.1.0
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install, compile the CLI/core/server and the UI, then drop the dev dependencies ------------------------
FROM ${NODE_IMAGE} AS build
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
# Install scripts run below, once the sources are in (the `prepare` script would compile them).
RUN npm ci --ignore-scripts
COPY . .
# The native modules: better-sqlite3 must build; tfjs-node (optional, downloads libtensorflow) may fail, and then
# the server uses the wasm backend, exactly as on an offline branch machine.
RUN npm rebuild better-sqlite3 \
  && (npm rebuild @tensorflow/tfjs-node \
      || (echo "tfjs-node did not install: the wasm backend will be used" && rm -rf node_modules/@tensorflow/tfjs-node))
RUN npm run build && npm run --if-present build:renderer
RUN npm prune --omit=dev --ignore-scripts

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
# runAsNonRoot can check it.
RUN mkdir -p /var/lib/branchlens && chown 1000:1000 /var/lib/branchlens && chmod 0700 /var/lib/branchlens
USER 1000:1000
VOLUME ["/var/lib/branchlens"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/branchlens.js"]
# Any non-loopback bind requires the API token anyway; --token-required says so. The token is
# <data>/keys/api-token: generated and printed once on first start, or mounted from a secret (docs/deploy.md).
# Set --workers to the container's CPU limit (Node sees the host's cores, not a CPU quota).
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--token-required"]
