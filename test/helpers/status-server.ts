/**
 * The HTTP server of a `run` process with the status page mounted, as the
 * web tests start it: real express, real Redis and queues, no workers.
 */
import type express from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { type HttpServer, startHttpServer } from '../../src/http.js';
import { silentLogger } from '../../src/logger.js';
import type { Queues } from '../../src/queues.js';
import { type StatusPageDeps, statusPageRoutes } from '../../src/web/routes.js';

export interface StatusServerOptions {
  readonly config: Config;
  readonly redis: Redis;
  readonly queues: Queues;
  /** What the status page routes get beyond config, Redis, queues and log (`reload`, another `redis`). */
  readonly page?: Partial<Omit<StatusPageDeps, 'config' | 'queues' | 'log'>>;
  /** Mounted instead of the status page. */
  readonly routes?: express.Router;
}

export function startStatusServer(options: StatusServerOptions): Promise<HttpServer> {
  const { config, redis, queues } = options;
  return startHttpServer({
    config: () => config,
    redis,
    queues,
    workers: [],
    role: 'run',
    log: silentLogger,
    routes: options.routes ?? statusPageRoutes({ config: () => config, redis, queues, log: silentLogger, ...options.page }),
  });
}
