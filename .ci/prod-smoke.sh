#!/usr/bin/env bash
# Production-install smoke check: what the container's runtime stage does, without Docker.
# Takes the already-built dist/ (run `npm run build` first), installs production dependencies
# only (`npm ci --omit=dev`) in a clean directory, starts `dbswatch run` against a real Redis,
# checks /healthz, /readyz and /metrics, then requires a clean exit (code 0) on SIGTERM.
# A dev-only import anywhere in the runtime path fails here, not in production.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

step() { printf '==> smoke: %s\n' "$*"; }
fail() { printf '==> smoke: FAILED: %s\n' "$*" >&2; exit 1; }

REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export REDIS_URL
prefix="smoke-$$-${RANDOM}"
workdir=""
pid=""
log=""

cleanup() {
  local code=$?
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${prefix}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1 || true
  fi
  if [[ $code -ne 0 && -n "$log" && -s "$log" ]]; then
    printf '==> smoke: last lines of the service log:\n' >&2
    tail -n 40 "$log" >&2 || true
  fi
  [[ -n "$workdir" ]] && rm -rf "$workdir"
  exit "$code"
}
trap cleanup EXIT

[[ -f dist/src/cli.js ]] || fail "dist/src/cli.js is missing: run \`npm run build\` first"
command -v curl >/dev/null 2>&1 || fail "curl is needed"

step "copying package.json, package-lock.json, dist/ and config/ into a clean directory"
workdir="$(mktemp -d "${TMPDIR:-/tmp}/dbswatch-smoke.XXXXXX")"
cp -R package.json package-lock.json dist config "$workdir/"
log="$workdir/dbswatch.log"
devfiles="$(cd "$workdir" && find dist \( -path '*/dev/*' -o -path '*simulator*' -o -path '*sinks*' -o -name 'demo.js' -o -name 'local-redis.js' \) -print)"
[[ -z "$devfiles" ]] || fail "dev tooling was built into dist/: $devfiles"

step "npm ci --omit=dev (production dependencies only)"
(cd "$workdir" && NODE_ENV=production npm ci --omit=dev --no-audit --no-fund --loglevel=error)
# typescript may appear: it is an optional peer of valibot (via @bull-board/api), which npm installs
# with production dependencies. The test-only packages must not.
for dev in vitest smtp-server playwright-core @sparticuz/chromium tsx @biomejs/biome; do
  [[ ! -d "$workdir/node_modules/$dev" ]] || fail "dev dependency $dev was installed"
done

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 19464)"
cat >"$workdir/smoke.yaml" <<YAML
redis:
  prefix: ${prefix}
plans: []
http:
  host: 127.0.0.1
  port: ${port}
YAML

step "starting 'node dist/src/cli.js run' (redis prefix ${prefix}, http port ${port})"
(cd "$workdir" && NODE_ENV=production exec node dist/src/cli.js run --config smoke.yaml >"$log" 2>&1) &
pid=$!
base="http://127.0.0.1:${port}"

# Polls a URL until it answers 2xx, for at most $2 seconds; fails early if the service died.
wait_for() {
  local url=$1 seconds=$2
  local deadline=$((SECONDS + seconds))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "dbswatch exited before $url answered"
    ((SECONDS < deadline)) || fail "$url did not answer 2xx within ${seconds}s"
    sleep 0.2
  done
}

step "GET /healthz → 200"
wait_for "$base/healthz" 30
step "GET /readyz → 200"
wait_for "$base/readyz" 30
step "the image HEALTHCHECK (node dist/src/healthcheck.js) reads the configured port → exit 0"
(cd "$workdir" && node dist/src/healthcheck.js --config smoke.yaml) || fail "healthcheck script failed against a healthy instance"
step "GET /metrics contains dbswatch_polls_total"
metrics="$(curl -fsS --max-time 5 "$base/metrics")" || fail "/metrics did not answer 200"
grep -q '^# TYPE dbswatch_polls_total counter' <<<"$metrics" || fail "/metrics has no dbswatch_polls_total"

step "GET /assets/page.js → 200 (the page's static files are in dist/)"
curl -fsS -o /dev/null --max-time 5 "$base/assets/page.js" || fail "/assets/page.js did not answer 200 (were src/web/assets copied into dist/?)"
step "GET /healthz with a foreign Host → 421 (DNS rebinding protection)"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: attacker.example' "$base/healthz")"
[[ "$code" == 421 ]] || fail "a foreign Host got $code (want 421)"

step "SIGTERM → clean exit within 30s"
kill -TERM "$pid"
deadline=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "still running 30s after SIGTERM"
  sleep 0.2
done
set +e
wait "$pid"
code=$?
set -e
pid=""
[[ $code -eq 0 ]] || fail "exit code $code after SIGTERM (want 0)"
grep -q 'shutdown complete' "$log" || fail "no 'shutdown complete' in the log"

step "OK: production install starts, serves health, readiness and metrics, and stops cleanly"
cd "$repo"
