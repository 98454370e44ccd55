#!/usr/bin/env node
/**
 * The container HEALTHCHECK: GET /healthz on the port the config names
 * (not a hard-coded 9464). Light on purpose — it loads only the config code,
 * not the queues — because Docker runs it every 30 s. Exit 0 healthy, 1 not.
 * Also reachable as `dbswatch healthcheck`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, configPath, loadConfig } from './config.js';

/** Where a local probe reaches the server: a wildcard bind answers on loopback. */
export function probeUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  const shown = local.includes(':') && !local.startsWith('[') ? `[${local}]` : local;
  return `http://${shown}:${port}/healthz`;
}

/** Probes /healthz; returns the exit code and writes one line to stderr when unhealthy. */
export async function healthcheck(env: Readonly<Record<string, string | undefined>>, flag?: string, timeoutMs = 4_000): Promise<number> {
  let url: string;
  try {
    const config = loadConfig(configPath(flag, env), env);
    if (config.http.port === 0) {
      process.stderr.write('healthcheck: http.port is 0 (HTTP server off): nothing to probe\n');
      return 1;
    }
    url = probeUrl(config.http.host, config.http.port);
  } catch (error) {
    process.stderr.write(`healthcheck: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.ok) return 0;
    process.stderr.write(`healthcheck: ${url} answered ${res.status}\n`);
  } catch (error) {
    process.stderr.write(`healthcheck: ${url} did not answer: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return 1;
}

function isEntryPoint(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await healthcheck(process.env, process.argv[2] === '--config' ? process.argv[3] : undefined);
