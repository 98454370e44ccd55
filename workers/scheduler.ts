#!/usr/bin/env node
/**
 * Entry point for a `scheduler` container: `node dist/workers/scheduler.js [options]`
 * is `dbswatch scheduler [options]`. Thin on purpose: the composition root is
 * `src/roles.ts`.
 */
import { main } from '../src/cli.js';

await main(['scheduler', ...process.argv.slice(2)]);
