/**
 * The operations HTTP server: liveness (`/healthz`), readiness (`/readyz`)
 * and Prometheus metrics (`/metrics`), on node:http with a small route table
 * that later features (status page, bull-board) extend by adding routes.
 *
 * Health and metrics are open: they carry no secrets and no ids. Routes marked
 * `open: false` need `Authorization: Bearer <http.authToken>` when a token is
 * configured (the config requires one whenever the host is not loopback);
 * Basic auth with the token as password works too.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { queueJobs, registry } from './metrics.js';
import type { Queues } from './queues.js';
import { VERSION } from './version.js';

/** A running HTTP server; `port` is the real one (also when the config asked for 0). */
export interface HttpServer {
  readonly port: number;
  readonly url: string;
  /** Stops accepting connections and waits for open ones; safe to call twice. */
  close(): Promise<void>;
}

/**
 * What a handler returns when it wrote the response itself through
 * `ctx.res` (an embedded framework such as bull-board's express app).
 */
export const RESPONDED: unique symbol = Symbol('responded');

/** What a route handler answers. */
export interface HttpReply {
  readonly status: number;
  readonly body: string | Buffer;
  /** Default: JSON. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a route handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  /** Only for handlers that answer themselves (and then return RESPONDED); the body is left unread for them. */
  readonly res: ServerResponse;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
}

/** One entry of the route table. */
export interface Route {
  /** Exact path, e.g. `/healthz`; with `prefix`, also every path below it (`/queues/…`). */
  readonly path: string;
  /** Match `path` and everything under `path/`. Default: false (exact match only). */
  readonly prefix?: boolean;
  /** Methods answered; GET routes answer HEAD too. */
  readonly methods: readonly string[];
  /** True: no token needed. Default for added routes: false (token needed when one is configured). */
  readonly open?: boolean;
  handle(ctx: RouteContext): Promise<HttpReply | typeof RESPONDED>;
}

export type HttpRole = 'run' | 'scheduler' | 'worker';

export interface HttpDeps {
  /** A getter, so a reloaded config (SIGHUP) applies to later requests. */
  readonly config: () => Config;
  /** The process's worker-style connection (`maxRetriesPerRequest: null`). */
  readonly redis: Redis;
  readonly queues: Queues;
  /** Workers this role runs; readiness needs every one running. */
  readonly workers: readonly Worker[];
  readonly role: HttpRole;
  readonly log: Logger;
  /** Extra routes (status page, admin UI) served beside the built-in ones. */
  readonly routes?: readonly Route[];
}

/** How long readiness waits for Redis to answer PING. */
export const READY_PING_TIMEOUT_MS = 1_000;
/** How long a scrape waits for queue counts before serving what it has. */
export const METRICS_SAMPLE_TIMEOUT_MS = 2_000;

/** States whose depth `/metrics` reports per queue. */
export const SAMPLED_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

const JSON_TYPE = 'application/json; charset=utf-8';

const json = (status: number, value: unknown): HttpReply => ({ status, body: JSON.stringify(value) });

/**
 * Resolves with the action's value, or rejects after `ms`. A worker-style
 * connection queues commands while Redis is down instead of failing them, so
 * without a timer a probe would hang exactly when it matters.
 */
async function withTimeout<T>(ms: number, what: string, action: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${formatSeconds(ms)}`)), ms);
  });
  try {
    return await Promise.race([action(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** Readiness reasons; empty = ready. Never includes the Redis URL or any id. */
export async function readinessProblems(deps: Pick<HttpDeps, 'redis' | 'workers'>, pingTimeoutMs = READY_PING_TIMEOUT_MS): Promise<string[]> {
  const reasons: string[] = [];
  const redisCheck = withTimeout(pingTimeoutMs, 'redis', () => deps.redis.ping()).then(
    (answer) => {
      if (answer !== 'PONG') reasons.push('redis: unexpected answer to PING');
    },
    (error: unknown) => {
      // Only our own timeout message is specific; other errors are summarised (they may quote the URL).
      const message = error instanceof Error && error.message.startsWith('redis: ') ? error.message : 'redis: PING failed';
      reasons.push(message);
    },
  );
  for (const worker of deps.workers) {
    if (!worker.isRunning()) reasons.push(`worker ${worker.name}: not running`);
  }
  await redisCheck;
  return reasons;
}

/** Fills `queueJobs{queue,state}`; on any Redis trouble the gauge is emptied rather than left stale. */
async function sampleQueueDepths(queues: Queues, redis: Redis, log: Logger): Promise<void> {
  // Don't queue commands on a connection that is down: the scrape would wait for nothing.
  if (redis.status !== 'ready') {
    queueJobs.reset();
    return;
  }
  try {
    const entries = [['poll', queues.poll], ['notify', queues.notify]] as const;
    const counts = await withTimeout(METRICS_SAMPLE_TIMEOUT_MS, 'queue depths', () =>
      Promise.all(entries.map(([, queue]) => queue.getJobCounts(...SAMPLED_STATES))),
    );
    entries.forEach(([name], i) => {
      const byState = counts[i] ?? {};
      for (const state of SAMPLED_STATES) queueJobs.set({ queue: name, state }, byState[state] ?? 0);
    });
  } catch (error) {
    queueJobs.reset();
    log.debug({ err: error }, 'queue depths not sampled for this scrape');
  }
}

function builtInRoutes(deps: HttpDeps): Route[] {
  return [
    {
      path: '/healthz',
      methods: ['GET'],
      open: true,
      handle: async () => json(200, { status: 'ok', version: VERSION }),
    },
    {
      path: '/readyz',
      methods: ['GET'],
      open: true,
      handle: async () => {
        const reasons = await readinessProblems(deps);
        return reasons.length === 0
          ? json(200, { status: 'ready', role: deps.role })
          : json(503, { status: 'not ready', role: deps.role, reasons });
      },
    },
    {
      path: '/metrics',
      methods: ['GET'],
      open: true,
      handle: async () => {
        await sampleQueueDepths(deps.queues, deps.redis, deps.log);
        return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
      },
    },
  ];
}

/**
 * Constant-time token check: `Bearer <token>`, or Basic auth with any user
 * and the token as password (so a browser can open a protected page).
 */
function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  let presented = '';
  if (/^Bearer /i.test(header)) presented = header.slice(7).trim();
  else if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    presented = colon === -1 ? '' : decoded.slice(colon + 1);
  }
  const given = Buffer.from(presented);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Routes one request; pure with respect to the socket, so it never throws past the caller. */
async function dispatch(
  routes: ReadonlyMap<string, Route>,
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<HttpReply | typeof RESPONDED> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const route = routes.get(path) ?? prefixRoute(routes, path);
  if (!route) return json(404, { status: 'not found', path: path.slice(0, 200) });
  const method = req.method ?? 'GET';
  const allowed = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
  if (!allowed.includes(method)) {
    return { ...json(405, { status: 'method not allowed', allow: allowed }), headers: { allow: allowed.join(', ') } };
  }
  if (!route.open && !authorised(req, deps.config().http.authToken)) {
    return { ...json(401, { status: 'unauthorised' }), headers: { 'www-authenticate': 'Basic realm="dbswatch", charset="UTF-8"' } };
  }
  const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  return route.handle({ req, res, path, query });
}

/** The longest prefix route covering `path` (`/queues` covers `/queues/api/…`). */
function prefixRoute(routes: ReadonlyMap<string, Route>, path: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes.values()) {
    if (!route.prefix || !path.startsWith(`${route.path}/`)) continue;
    if (!best || route.path.length > best.path.length) best = route;
  }
  return best;
}

function send(res: ServerResponse, reply: HttpReply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(reply.status, {
    'content-type': reply.contentType ?? JSON_TYPE,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  res.end(reply.body);
}

/** The one line an operator sees when the port cannot be bound, naming the key to change. */
export function listenProblem(host: string, port: number, error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') return `port ${port} is in use: set http.port or stop the other process`;
  if (error.code === 'EACCES') return `port ${port} needs privileges this process lacks: set http.port above 1023`;
  if (error.code === 'EADDRNOTAVAIL') return `http.host ${host} is not an address of this machine: set http.host`;
  return `the HTTP server cannot listen on ${host}:${port}: ${error.code ?? error.message}`;
}

/** Starts the server on `config.http.host:port` (port 0 = an ephemeral port). */
export async function startHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const { log } = deps;
  const routes = new Map<string, Route>();
  for (const route of [...builtInRoutes(deps), ...(deps.routes ?? [])]) routes.set(route.path, route);

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    dispatch(routes, deps, req, res)
      .catch((error: unknown) => {
        log.warn({ err: error, method: req.method }, 'HTTP handler failed');
        return json(500, { status: 'error' });
      })
      .then((answer) => {
        // A handler that answered itself (bull-board) owns the body too; for the others,
        // whose requests have no body we read, drain it so a sender is not left hanging.
        if (answer === RESPONDED) return;
        req.resume();
        const reply = answer;
        send(res, reply);
        log.debug(
          {
            method: req.method,
            path: (req.url ?? '').split('?')[0]?.slice(0, 200),
            status: reply.status,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'HTTP request',
        );
      })
      .catch((error: unknown) => log.warn({ err: error }, 'HTTP response failed'));
  });
  // Malformed requests get a 400 from here instead of an uncaught error.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  // Scrapers keep connections open; don't let an idle one delay shutdown for long.
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;

  const { host, port } = deps.config().http;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new Error(listenProblem(host, port, error)));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'HTTP server error'));

  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = `http://${urlHost}:${actualPort}`;
  log.info({ url, role: deps.role }, 'HTTP server listening (/healthz, /readyz, /metrics)');

  let closing: Promise<void> | undefined;
  return {
    port: actualPort,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // A scrape in flight gets a moment; then every connection goes.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}
