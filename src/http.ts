/**
 * The operations HTTP server, on express: liveness (`/healthz`), readiness
 * (`/readyz`) and Prometheus metrics (`/metrics`), plus the routes a role
 * adds (the status page and bull-board, `web/routes.ts`).
 *
 * Every request must name an allowed `Host` (DNS-rebinding protection,
 * `web/hosts.ts`) and every response carries the security headers. Health
 * and metrics need no token: they carry no secrets and no ids. Everything
 * else needs `Authorization: Bearer <http.authToken>` when a token is
 * configured (the config requires one whenever the host is not loopback);
 * Basic auth with the token as password works too.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { queueJobs, registry } from './metrics.js';
import type { Queues } from './queues.js';
import { VERSION } from './version.js';
import { hostAllowed, hostRefusal } from './web/hosts.js';

/** A running HTTP server; `port` is the real one (also when the config asked for 0). */
export interface HttpServer {
  readonly port: number;
  readonly url: string;
  /** Stops accepting connections and waits for open ones; safe to call twice. */
  close(): Promise<void>;
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
  /** Routes served behind the token (the status page router, see `web/routes.ts`). Default: none. */
  readonly routes?: express.Router;
}

/** How long readiness waits for Redis to answer PING. */
export const READY_PING_TIMEOUT_MS = 1_000;
/** How long a scrape waits for queue counts before serving what it has. */
export const METRICS_SAMPLE_TIMEOUT_MS = 2_000;

/** States whose depth `/metrics` reports per queue. */
export const SAMPLED_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

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
    const entries = [
      ['poll', queues.poll],
      ['notify', queues.notify],
    ] as const;
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

/**
 * Headers on every response — pages, JSON, assets, errors, the Host
 * refusal and bull-board's. A route may replace the CSP with its own (the
 * status page's nonce policy, bull-board's), never drop it.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** A handler for the other methods of a path: 405 with `Allow` (`router.route(p).get(h).all(methodNotAllowed('GET'))`). GET implies HEAD. */
export function methodNotAllowed(...methods: readonly string[]) {
  const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
  return (_req: Request, res: Response): void => {
    res.status(405).set('allow', allow.join(', ')).json({ status: 'method not allowed', allow });
  };
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

/**
 * The express app: security headers → Host check → open probes
 * (`/healthz`, `/readyz`, `/metrics`) → the token → `deps.routes` → 404 →
 * errors. Everything after the token check is closed by default, so a route
 * added to the status page router cannot be left open by mistake.
 */
export function createHttpApp(deps: HttpDeps): express.Express {
  const { log } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Answers are live state, never cached (static assets have their own validators).
  app.set('etag', false);

  app.use((req, res, next) => {
    res.set(SECURITY_HEADERS);
    if (log.isLevelEnabled('debug')) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.debug({ method: req.method, path: req.path.slice(0, 200), status: res.statusCode, ms }, 'HTTP request');
      });
    }
    next();
  });

  // DNS rebinding: before anything that answers, health and metrics included.
  app.use((req, res, next) => {
    const { host, allowedHosts = [] } = deps.config().http;
    if (hostAllowed(req.headers.host, { boundHost: host, allowedHosts })) return next();
    res.status(421).type('text/plain; charset=utf-8').send(hostRefusal(req.headers.host));
  });

  app
    .route('/healthz')
    .get((_req, res) => {
      res.json({ status: 'ok', version: VERSION });
    })
    .all(methodNotAllowed('GET'));
  app
    .route('/readyz')
    .get(async (_req, res) => {
      const reasons = await readinessProblems(deps);
      if (reasons.length === 0) res.json({ status: 'ready', role: deps.role });
      else res.status(503).json({ status: 'not ready', role: deps.role, reasons });
    })
    .all(methodNotAllowed('GET'));
  app
    .route('/metrics')
    .get(async (_req, res) => {
      await sampleQueueDepths(deps.queues, deps.redis, deps.log);
      res.type(registry.contentType).send(await registry.metrics());
    })
    .all(methodNotAllowed('GET'));

  app.use((req, res, next) => {
    if (authorised(req, deps.config().http.authToken)) return next();
    res.status(401).set('www-authenticate', 'Basic realm="dbswatch", charset="UTF-8"').json({ status: 'unauthorised' });
  });

  if (deps.routes) app.use(deps.routes);

  app.use((req, res) => {
    res.status(404).json({ status: 'not found', path: req.path.slice(0, 200) });
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // A path parameter that is not valid percent-encoding names nothing we have.
    if (error instanceof URIError) {
      res.status(404).json({ status: 'not found', path: req.path.slice(0, 200) });
      return;
    }
    log.warn({ err: error, method: req.method }, 'HTTP handler failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(500).json({ status: 'error' });
  });
  return app;
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
  const server = createServer(createHttpApp(deps));
  // Malformed requests get a 400 from here instead of an uncaught error.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const headers = Object.entries(SECURITY_HEADERS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\n${headers}content-length: 0\r\n\r\n`);
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
