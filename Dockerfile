# dbswatch container image. Mirrors exactly what .ci/run proves on every change:
#   npm ci → npm run build (build stage) → npm ci --omit=dev + dist/ + config/ (runtime stage)
#   → node dist/src/cli.js run  (.ci/prod-smoke.sh starts the same command from the same install).

# ---- build: full install (dev dependencies: TypeScript, tsx for the demo), compile ----
FROM node:20-bookworm-slim AS build
# The lockfile and the package.json "allowScripts" map are written by npm 11; use the same npm as CI.
RUN npm install -g npm@11.19.1 --no-audit --no-fund
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY config ./config
RUN npm run build

# ---- runtime: production dependencies, compiled code and configs only ----
FROM node:20-bookworm-slim AS runtime
RUN npm install -g npm@11.19.1 --no-audit --no-fund
ENV NODE_ENV=production
# Heap cap: a poll sweep makes much short-lived garbage (page bodies, tasks) and, uncapped, V8 lets old space grow to
# 250-400 MB before it compacts. Live data is about poll.concurrency × (tasks per plan ÷ 1,000) MB, so 128 MB fits
# plans of well over 10,000 tasks at the default concurrency; raise --max-old-space-size for bigger plans or higher
# concurrency. The benchmark runs its worker with these same flags (bench/run.ts reads this line).
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# Non-root: the official image's "node" user (uid 1000). Nothing under /app needs to be writable.
USER node
# /healthz, /readyz, /metrics. Inside a container http.host must be 0.0.0.0, which needs http.authToken.
EXPOSE 9464
# Liveness only (the process answers HTTP); /readyz is for orchestrators that route traffic or gate rollouts.
# Assumes the default http.port 9464.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful shutdown (in-flight jobs finish within shutdown.deadline, 25s by default);
# keep the orchestrator's stop timeout above it (docker stop -t 30, compose stop_grace_period: 30s).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli.js", "run", "--config", "/app/config/dbswatch.yaml"]
