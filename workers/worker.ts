#!/usr/bin/env node
/**
 * Entry point for a `worker` container: `node dist/workers/worker.js [options]`
 * is `dbswatch worker [options]`. Thin on purpose: the composition root is
 * `src/roles.ts`.
 */
import { main } from '../src/cli.js';

await main(['worker', ...process.argv.slice(2)]);
