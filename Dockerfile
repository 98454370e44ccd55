# dbswatch container image. Mirrors exactly what .ci/run proves on every change:
#   npm ci → npm run build (build stage) · npm ci --omit=dev (deps stage) · dist/ + production
#   node_modules (runtime stage) → node dist/src/cli.js run  (.ci/prod-smoke.sh runs the same install).
#
# Node 24 (current LTS; Node 20 reached end of life on 2026-04-30), Debian bookworm slim.
# The runtime stage runs nothing that needs the network: dependencies are installed once, in `deps`.
#
# Signals: dbswatch is PID 1 here and handles SIGTERM/SIGINT itself (graceful shutdown within
# shutdown.deadline), so no init is required; `docker run --init` (or compose `init: true`) adds tini
# to reap zombies and forward signals, which is harmless and recommended.
#
# The config is NOT in the image (.dockerignore): mount it at /app/config/dbswatch.yaml
# (compose: ./config; Kubernetes: the chart's ConfigMap), or point DBSWATCH_CONFIG elsewhere.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full install (dev dependencies: TypeScript), compile ----
FROM ${NODE_IMAGE} AS build
# The lockfile and package.json's "allowScripts" map are written by npm 11; use the same npm as CI.
RUN npm install -g npm@11.19.1 --no-audit --no-fund
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build
# Dev tooling for `docker compose --profile demo` (runs from this stage); never reaches the runtime stage.
COPY dev ./dev

# ---- deps: production dependencies only, installed once ----
FROM build AS deps
RUN rm -rf node_modules && NODE_ENV=production npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: compiled code and production dependencies; no package manager runs here ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Heap cap: a poll sweep makes much short-lived garbage (page bodies, tasks) and, uncapped, V8 lets old space grow to
# 250-400 MB before it compacts. Live data is about poll.concurrency × (tasks per plan ÷ 1,000) MB, so 128 MB fits
# plans of well over 10,000 tasks at the default concurrency; raise --max-old-space-size for bigger plans or higher
# concurrency. The benchmark runs its worker with these same flags (bench/run.ts reads this line).
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
WORKDIR /app
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/dbswatch.example.yaml ./config/dbswatch.example.yaml
# Non-root: the official image's "node" user (uid 1000). Nothing under /app needs to be writable,
# so the root filesystem can be read-only (the Helm chart sets readOnlyRootFilesystem).
USER node
# /healthz, /readyz, /metrics, the status page. Inside a container http.host must be 0.0.0.0,
# which needs http.authToken (or http.authTokenFile).
EXPOSE 9464
# Liveness: GET /healthz on the port the mounted config names (http.port), not a fixed 9464.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
# SIGTERM starts the graceful shutdown (in-flight jobs finish within shutdown.deadline, 25s by default);
# keep the orchestrator's stop timeout above it (docker stop -t 30, compose stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENV DBSWATCH_CONFIG=/app/config/dbswatch.yaml
CMD ["node", "dist/src/cli.js", "run"]
