/**
 * The running dbswatch version, read once from the package.json beside the
 * code (`src/` under tsx, `dist/src/` when built, `/app` in the image).
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'dbswatch' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

/** e.g. `0.1.0`; `unknown` when no package.json is found. */
export const VERSION: string = readVersion();
