/**
 * bull-board at `/queues` for the poll and notify queues. Two boards are
 * built once: a read-only one (shown when no `http.authToken` is
 * configured, i.e. nobody could have authenticated) and a full one (only
 * reachable with the token, which the HTTP server checks before handing the
 * request over). Both show notify job data with every URL hidden: a
 * pending notification carries pre-signed download links, and the board is
 * no place for them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express from 'express';
import { stripUrlQueries } from '../secrets.js';
import type { Queues } from '../queues.js';

/** Where the board lives (also its express mount point). */
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
  const app = express();
  app.disable('x-powered-by');
  app.use(BULL_BOARD_PATH, serverAdapter.getRouter());
  return app;
}

/** Both boards over the same queues; `handle` picks one per request. */
export function createBullBoards(queues: Queues) {
  const readOnly = board(queues, true);
  const full = board(queues, false);
  return {
    /** Hands the request to express and resolves once the response is done. */
    handle(req: IncomingMessage, res: ServerResponse, authenticated: boolean): Promise<void> {
      return new Promise<void>((resolve) => {
        res.once('close', () => resolve());
        (authenticated ? full : readOnly)(req as express.Request, res as express.Response);
      });
    },
  };
}
