#!/usr/bin/env node
/**
 * Entry point for a `run` container: `node dist/workers/run.js [options]`
 * is `dbswatch run [options]`. Thin on purpose: the composition root is
 * `src/roles.ts`.
 */
import { main } from '../src/cli.js';

await main(['run', ...process.argv.slice(2)]);
