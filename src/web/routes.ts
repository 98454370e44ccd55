/**
 * The status page's routes for the operations HTTP server:
 *
 * - `GET /` — the page (server-rendered, refreshes itself);
 * - `GET /api/status` — the same JSON as `dbswatch status --json`;
 * - `POST /api/notifications/:id/retry` — retries a failed notify job;
 * - `/queues` — bull-board (read-only unless authenticated).
 *
 * Access: none of these is `open`, so the server asks for `http.authToken`
 * whenever one is configured (and config load refuses a non-loopback host
 * without one). Actions go further: with no token configured they are
 * refused with 403 — a loopback-only page may be read by anyone on the
 * machine, but not used to change anything.
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
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { type HttpReply, RESPONDED, type Route } from '../http.js';
import type { Logger } from '../logger.js';
import type { Queues } from '../queues.js';
import { collectStatus } from '../status/report.js';
import { BULL_BOARD_PATH, createBullBoards } from './bull-board.js';
import { collectPageModel, parseFilter } from './data.js';
import { h, renderStatusPage } from './page.js';
import { retryFailedNotification } from './retry.js';
import { type AlertingRouteDeps, alertingRoutes } from './silences.js';
import { negotiateLocale } from '../notify/i18n.js';

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

const HTML = 'text/html; charset=utf-8';
const json = (status: number, value: unknown): HttpReply => ({ status, body: JSON.stringify(value) });

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

class RedisUnavailable extends Error {}

function unavailablePage(reason: string): HttpReply {
  // No script here, so the CSP allows nothing but the one style rule; meta refresh retries.
  return {
    status: 503,
    contentType: HTML,
    headers: { 'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'" },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>dbswatch status: unavailable</title></head><body><h1>dbswatch</h1><p>The status cannot be read right now: ${h(reason)}. This page retries every 5 seconds.</p></body></html>`,
  };
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

/** `/api/notifications/<id>/retry` → the decoded id, or undefined when the path has another shape. */
export function retryTarget(path: string): string | undefined {
  const match = /^\/api\/notifications\/([^/]+)\/retry$/.exec(path);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

export function statusPageRoutes(deps: StatusPageDeps): Route[] {
  const { redis, queues, log } = deps;
  const boards = createBullBoards(queues);

  return [
    ...alertingRoutes({ ...deps, crossSite }),
    {
      path: '/',
      methods: ['GET'],
      async handle({ req, query }) {
        const config = deps.config();
        try {
          const model = await readRedis(redis, () => collectPageModel({ config, redis, queues, filter: parseFilter(query) }));
          const nonce = randomBytes(16).toString('base64');
          return {
            status: 200,
            contentType: HTML,
            headers: {
              'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
              'referrer-policy': 'no-referrer',
            },
            body: renderStatusPage(model, { now: Date.now(), nonce, locale: negotiateLocale(query.get('lang') ?? undefined, req.headers['accept-language']) }),
          };
        } catch (error) {
          if (error instanceof RedisUnavailable) return unavailablePage(error.message);
          throw error;
        }
      },
    },
    {
      path: '/api/status',
      methods: ['GET'],
      async handle() {
        try {
          // Exactly what `dbswatch status --json` prints.
          return json(200, await readRedis(redis, () => collectStatus({ config: deps.config(), redis, queues })));
        } catch (error) {
          if (error instanceof RedisUnavailable) return json(503, { status: 'unavailable', message: error.message });
          throw error;
        }
      },
    },
    {
      path: '/api/notifications',
      prefix: true,
      methods: ['POST'],
      async handle({ req, path }) {
        if (!deps.config().http.authToken) {
          return json(403, {
            status: 'forbidden',
            message: 'actions are disabled: set http.authToken in the config to enable Retry (and then send the token)',
          });
        }
        if (crossSite(req)) return json(403, { status: 'forbidden', message: 'cross-site request refused' });
        if (!isJson(req)) {
          return json(415, { status: 'unsupported media type', message: 'send the action as POST with Content-Type: application/json' });
        }
        const id = retryTarget(path);
        if (id === undefined) return json(404, { status: 'not found', message: 'expected /api/notifications/<job id>/retry' });
        try {
          const outcome = await readRedis(redis, () => retryFailedNotification(queues, id));
          if (outcome.status === 200) log.info({ jobId: id }, 'failed notification retried from the status page');
          return json(outcome.status, outcome.body);
        } catch (error) {
          if (error instanceof RedisUnavailable) return json(503, { status: 'unavailable', message: error.message });
          throw error;
        }
      },
    },
    {
      path: BULL_BOARD_PATH,
      prefix: true,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      async handle({ req, res }) {
        const method = req.method ?? 'GET';
        // bull-board's own actions are PUT/POST/DELETE: the same cross-site rule as ours.
        if (method !== 'GET' && method !== 'HEAD' && crossSite(req)) {
          return json(403, { status: 'forbidden', message: 'cross-site request refused' });
        }
        // The server has already checked the token when one is configured, so "a token is
        // configured" here means "this request presented it".
        await boards.handle(req, res, !!deps.config().http.authToken);
        return RESPONDED;
      },
    },
  ];
}
