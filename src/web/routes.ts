/**
 * The status page's routes, one express Router the HTTP server mounts
 * behind its Host check and token check (`../http.ts`):
 *
 * - `GET /` — the page (server-rendered, refreshes itself);
 * - `GET /assets/page.css`, `/assets/page.js` — its stylesheet and script;
 * - `GET /api/status` — the same JSON as `dbswatch status --json`;
 * - `POST /api/notifications/:id/retry` — retries a failed notify job;
 * - `/queues` — bull-board (read-only unless a token is configured).
 *
 * Adding a route: `router.get(path, handler)` for a read;
 * `router.post(path, ...actionGuards(deps.config), handler)` for anything
 * that changes state. Handlers may be async and throw: a `RedisUnavailable`
 * becomes a 503, anything else a logged 500.
 *
 * Access: every route here needs `http.authToken` whenever one is
 * configured (the server checks it before this router; config load refuses
 * a non-loopback host without one). Actions go further: with no token
 * configured they are refused with 403 — a loopback-only page may be read by
 * anyone on the machine, but not used to change anything.
 *
 * CSRF: a browser that has the token as remembered Basic credentials sends
 * it with any request to this origin, including one a hostile page
 * triggers. Actions therefore need a JSON content type (a cross-site form
 * cannot send one, and the CORS preflight a script would need is never
 * granted) and are refused when the browser says the request comes from
 * another site (`Origin`, `Sec-Fetch-Site`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { methodNotAllowed } from '../http.js';
import type { Logger } from '../logger.js';
import { negotiateLocale } from '../notify/i18n.js';
import type { Queues } from '../queues.js';
import { collectStatus } from '../status/report.js';
import { BULL_BOARD_CSP, BULL_BOARD_PATH, bullBoards } from './bull-board.js';
import { collectPageModel, parseFilter } from './data.js';
import { html } from './html.js';
import { renderStatusPage } from './page.js';
import { retryFailedNotification } from './retry.js';
import { type AlertingRouteDeps, ackHandler, addSilenceHandler, type HttpReply, listSilencesHandler, reloadHandler, removeSilenceHandler } from './silences.js';

export interface StatusPageDeps {
  /** A getter, so a reloaded config (SIGHUP) applies to later requests. */
  readonly config: () => Config;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly log: Logger;
  /** Reloads the config file (`POST /-/reload`). Default: none (501). */
  readonly reload?: AlertingRouteDeps['reload'];
}

/** How long a page or API request waits for Redis before answering 503. */
export const READ_TIMEOUT_MS = 5_000;

/** The page's stylesheet and script (copied next to the compiled file by `npm run build`). */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** The page's policy: its one nonce'd script, its own stylesheet, nothing from anywhere else. */
export const pageCsp = (nonce: string) =>
  `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'self'; img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

/** The worker connection queues commands while Redis is down: don't let a page wait for that. */
async function readRedis<T>(redis: Redis, read: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw new RedisUnavailable('Redis is not connected');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisUnavailable(`Redis did not answer within ${READ_TIMEOUT_MS / 1000}s`)), READ_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Redis cannot be read right now: a 503, as a page for the page and as JSON for the API. */
export class RedisUnavailable extends Error {}

function unavailablePage(reason: string): string {
  // No script and no style: the server's default CSP (nothing allowed) fits; meta refresh retries.
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>dbswatch status: unavailable</title></head><body><h1>dbswatch</h1><p>The status cannot be read right now: ${reason}. This page retries every 5 seconds.</p></body></html>`.toString();
}

/**
 * True when the browser marks the request as coming from another site.
 * Requests without these headers (curl, scripts) are not browser-driven
 * and carry the token explicitly.
 */
export function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      return new URL(origin).host !== req.headers.host;
    } catch {
      return true;
    }
  }
  return origin === 'null';
}

const isJson = (req: IncomingMessage) => /^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '');

/**
 * The checks every state-changing route runs first, in order: a token must
 * be configured (403 otherwise, saying how to enable actions), the request
 * must not be cross-site (403) and must be JSON (415). The token itself was
 * already checked by the server.
 */
export function actionGuards(config: () => Config, options: { readonly json?: boolean } = {}): RequestHandler[] {
  const needsJson = options.json ?? true;
  return [
    (_req, res, next) => {
      if (config().http.authToken) return next();
      res.status(403).json({
        status: 'forbidden',
        message: 'actions are disabled: set http.authToken in the config to enable them (Retry, silences, acks, reload) and then send the token',
      });
    },
    (req, res, next) => {
      if (!crossSite(req)) return next();
      res.status(403).json({ status: 'forbidden', message: 'cross-site request refused' });
    },
    (req, res, next) => {
      if (!needsJson || isJson(req)) return next();
      res.status(415).json({ status: 'unsupported media type', message: 'send the action as POST with Content-Type: application/json' });
    },
  ];
}

/** The status page router (see the file comment for its routes). */
export function statusPageRoutes(deps: StatusPageDeps): express.Router {
  const { redis, queues, log } = deps;
  const router = express.Router();

  router
    .route('/')
    .get(async (req, res) => {
      const config = deps.config();
      const query = new URL(req.originalUrl, 'http://localhost').searchParams;
      const model = await readRedis(redis, () => collectPageModel({ config, redis, queues, filter: parseFilter(query) }));
      const nonce = randomBytes(16).toString('base64');
      res
        .set('content-security-policy', pageCsp(nonce))
        .type('text/html; charset=utf-8')
        .send(renderStatusPage(model, { now: Date.now(), nonce, locale: negotiateLocale(query.get('lang') ?? undefined, req.headers['accept-language']) }));
    })
    .all(methodNotAllowed('GET'));

  // The page's own files: no secrets in them, but behind the token like the page.
  // Revalidated on each load (ETag), so a new release's page never runs an old script.
  router.use(
    '/assets',
    express.static(ASSETS_DIR, { index: false, redirect: false, cacheControl: false, setHeaders: (res) => res.setHeader('cache-control', 'no-cache') }),
  );

  router
    .route('/api/status')
    .get(async (_req, res) => {
      // Exactly what `dbswatch status --json` prints.
      res.json(await readRedis(redis, () => collectStatus({ config: deps.config(), redis, queues })));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/notifications/:id/retry')
    .post(...actionGuards(deps.config), async (req, res) => {
      const id = req.params.id ?? '';
      const outcome = await readRedis(redis, () => retryFailedNotification(queues, id));
      if (outcome.status === 200) log.info({ jobId: id }, 'failed notification retried from the status page');
      res.status(outcome.status).json(outcome.body);
    })
    .all(methodNotAllowed('POST'));

  // Alerting (issue 18): runtime silences, acknowledging a failed task, reloading the config.
  const alerting: AlertingRouteDeps = { config: deps.config, redis, log, reload: deps.reload };
  const reply = (res: Response, answer: HttpReply) =>
    res
      .status(answer.status)
      .type(answer.contentType ?? 'application/json')
      .send(answer.body);
  router
    .route('/api/silences')
    .get(async (_req, res) => reply(res, await readRedis(redis, () => listSilencesHandler(alerting))))
    .post(...actionGuards(deps.config), async (req, res) => reply(res, await readRedis(redis, () => addSilenceHandler(alerting, req))))
    .all(methodNotAllowed('GET', 'POST'));
  router
    .route('/api/silences/:id')
    .delete(...actionGuards(deps.config, { json: false }), async (req, res) =>
      reply(res, await readRedis(redis, () => removeSilenceHandler(alerting, req.params.id ?? ''))),
    )
    .all(methodNotAllowed('DELETE'));
  router
    .route('/api/acks/:taskId')
    .post(...actionGuards(deps.config), async (req, res) => reply(res, await readRedis(redis, () => ackHandler(alerting, req.params.taskId ?? ''))))
    .all(methodNotAllowed('POST'));
  router
    .route('/-/reload')
    .post(...actionGuards(deps.config, { json: false }), async (_req, res) => reply(res, await reloadHandler(alerting)))
    .all(methodNotAllowed('POST'));

  router.use(
    BULL_BOARD_PATH,
    (req, res, next) => {
      res.set('content-security-policy', BULL_BOARD_CSP);
      // bull-board's own actions are PUT/POST/DELETE: the same cross-site rule as ours.
      if (req.method !== 'GET' && req.method !== 'HEAD' && crossSite(req)) {
        res.status(403).json({ status: 'forbidden', message: 'cross-site request refused' });
        return;
      }
      next();
    },
    // The server has already checked the token when one is configured, so "a token is
    // configured" here means "this request presented it".
    bullBoards(queues, () => !!deps.config().http.authToken),
  );

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof RedisUnavailable)) return next(error);
    if (req.path === '/') res.status(503).type('text/html; charset=utf-8').send(unavailablePage(error.message));
    else res.status(503).json({ status: 'unavailable', message: error.message });
  });
  return router;
}
