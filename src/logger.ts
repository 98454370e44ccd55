/**
 * One root pino logger for the process; every job gets a child
 * (`logger.child({ planId, jobId })`). Secrets are redacted by path, and
 * free text is scrubbed of pre-signed URL query strings and known secrets.
 */
import { type Logger, type LoggerOptions, pino } from 'pino';
import { REDACT_PATHS, registeredSecrets, scrubSecrets } from './secrets.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  /** Default: info. */
  level?: string | undefined;
  /** `json` (default) or `pretty` (needs the dev-only pino-pretty). */
  format?: string | undefined;
  /** Where lines go. Default: stdout. */
  destination?: pino.DestinationStream;
  /** File descriptor instead of a stream: 1 (stdout, the roles' container logs) or 2 (stderr, CLI commands). Default: 1. */
  fd?: 1 | 2;
}

/** Serialises errors without leaking: message and stack scrubbed, known fields kept. */
function errorSerializer(error: unknown): unknown {
  const base = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) {
    if (key === 'data' || key === 'config' || key === 'request' || key === 'response' || key === 'headers') continue;
    out[key] = typeof value === 'string' ? scrubSecrets(value, registeredSecrets()) : value;
  }
  return out;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'dbswatch' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errorSerializer, error: errorSerializer },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Free-text messages can carry URLs or secrets (e.g. from a library's error); scrub them.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg, registeredSecrets()) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  if (settings.format === 'pretty' && !settings.destination) {
    try {
      return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, destination: settings.fd ?? 1 } } });
    } catch {
      // pino-pretty is a dev dependency; fall back to JSON in a production install.
    }
  }
  if (settings.destination) return pino(options, settings.destination);
  return settings.fd === 2 ? pino(options, pino.destination({ dest: 2, sync: true })) : pino(options);
}

/** A logger that drops everything, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
