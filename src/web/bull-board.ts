/**
 * bull-board at `/queues` for the poll and notify queues. Two boards are
 * built once: a read-only one (shown when no `http.authToken` is
 * configured, i.e. nobody could have authenticated) and a full one (only
 * reachable with the token, which the HTTP server checks before the request
 * gets here). Both show notify job data with every URL hidden: a
 * pending notification carries pre-signed download links, and the board is
 * no place for them.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type express from 'express';
import type { Queues } from '../queues.js';
import { stripUrlQueries } from '../secrets.js';

/** Where the board lives (also its mount point). */
export const BULL_BOARD_PATH = '/queues';

/** Shown instead of any value under a key that names a URL. */
export const HIDDEN_URL = '[hidden: signed URL]';

/**
 * A copy of job data with URL-valued fields hidden and query strings
 * stripped from every other string (belt and braces for fields we did not
 * foresee). Pure.
 */
export function redactJobData(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return /url$/i.test(key) ? HIDDEN_URL : stripUrlQueries(value);
  if (Array.isArray(value)) return value.map((v) => redactJobData(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJobData(v, k)]));
  }
  return value;
}

function board(queues: Queues, readOnlyMode: boolean): express.Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const adapters = [queues.poll, queues.notify].map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode });
    adapter.setFormatter('data', (data: unknown) => redactJobData(data));
    return adapter;
  });
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? 'dbswatch (read-only)' : 'dbswatch', hideDocsLink: true } },
  });
  const app = serverAdapter.getRouter() as express.Express;
  app.disable('x-powered-by');
  return app;
}

/**
 * bull-board's own policy: its UI is scripts and styles from `/queues/static/`
 * (plus inline style attributes React writes); everything else as strict as
 * the rest of the server. Its font link to an outside host is blocked, which
 * only changes the typeface.
 */
export const BULL_BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * Both boards over the same queues as one middleware to mount at
 * `BULL_BOARD_PATH`: the full board when `writable()` says so, else the
 * read-only one. Each board is bull-board's own express app, handed the
 * request the way express mounts a sub-app (and the request given back to
 * the parent app the same way when the board does not answer).
 */
export function bullBoards(queues: Queues, writable: () => boolean): express.RequestHandler {
  const readOnly = board(queues, true);
  const full = board(queues, false);
  return (req, res, next) => {
    const [reqProto, resProto] = [Object.getPrototypeOf(req), Object.getPrototypeOf(res)];
    (writable() ? full : readOnly)(req, res, (error?: unknown) => {
      Object.setPrototypeOf(req, reqProto);
      Object.setPrototypeOf(res, resProto);
      next(error);
    });
  };
}
