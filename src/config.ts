/**
 * Configuration: one YAML file, `${VAR}` interpolation, validated once by zod
 * into a frozen, typed `Config`. Nothing else in dbswatch reads `process.env`
 * for settings: callers pass the environment in.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const DEFAULT_CONFIG_PATH = 'config/dbswatch.yaml';

/** Events a transition can raise. `finished` and `failed` are on by default; `progress` is opt-in. */
export const EVENT_KINDS = ['finished', 'failed', 'progress'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Raised when the config cannot be loaded; `problems` lists every issue, each naming its key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------
// Building blocks

/** Longest duration a Node timer can hold (~24.8 days); a longer one would fire after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Longest schedule-like duration (intervals, retention): one year. */
export const MAX_SCHEDULE_MS = 365 * 86_400_000;

const duration = (what: string, maxMs = MAX_TIMER_MS) =>
  z.unknown().transform((value, ctx) => {
    const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
    if (ms === undefined) {
      const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value === 'number' ? String(value) : `a ${value === null ? 'null' : typeof value}`;
      ctx.addIssue({
        code: 'custom',
        message: `${shown} is not a duration for ${what}: use e.g. "90s", "5m", "1h" or milliseconds`,
      });
      return z.NEVER;
    }
    if (ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `${what} is too long (at most ${maxMs === MAX_TIMER_MS ? '24d' : '365d'})` });
      return z.NEVER;
    }
    return ms;
  });

/** Channel names become part of job ids and metric-free log fields: keep them simple. */
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PLAN_ID = /^[A-Za-z0-9][A-Za-z0-9_*.-]{0,127}$/;

const eventList = z.array(z.enum(EVENT_KINDS)).min(1, 'must name at least one event');

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A URL check whose messages never repeat the (secret) value. */
const secretUrl = (what: string, protocols: readonly string[]) =>
  z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} is not a valid URL (value hidden)` });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must use ${protocols.map((p) => p.replace(':', '')).join(' or ')} (got ${url.protocol.replace(':', '')})`,
      });
    }
  });

const slackChannelSchema = z
  .object({
    type: z.literal('slack'),
    webhookUrl: secretUrl('webhookUrl', ['https:', 'http:']),
    /** Prepended to failure messages, e.g. `<!here>`. Default: none. */
    mentionOnFailure: z.string().max(100).optional(),
    /** Events this channel receives. Default: every event the plan raises. */
    events: eventList.optional(),
    /** More notifications than this in one poll become one digest. Default: notify.digestThreshold. */
    digestThreshold: z.number().int().min(1).optional(),
    /** HTTP timeout for one webhook call. Default: 10s. */
    timeout: duration('timeout').default(10_000),
  })
  .strict()
  .superRefine((channel, ctx) => {
    try {
      const url = new URL(channel.webhookUrl);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['webhookUrl'],
          message: 'webhookUrl must be https (plain http is allowed only to a loopback address)',
        });
      }
    } catch {
      // already reported by secretUrl
    }
  });

const emailAddressList = z.array(z.string().min(3).includes('@', { message: 'is not an email address' }));

const emailChannelSchema = z
  .object({
    type: z.literal('email'),
    /** `smtp://user:pass@host:587` or `smtps://…:465`; alternative to host/port/secure/auth. */
    smtpUrl: secretUrl('smtpUrl', ['smtp:', 'smtps:']).optional(),
    host: z.string().min(1).optional(),
    /** Default: 587 (465 when secure). */
    port: z.number().int().min(1).max(65535).optional(),
    /** Implicit TLS (port 465). Default: false — STARTTLS is used when the server offers it. */
    secure: z.boolean().optional(),
    /** Refuse to send unless the server upgrades with STARTTLS. Default: false. */
    requireTLS: z.boolean().optional(),
    auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).strict().optional(),
    from: z.string().min(3),
    to: emailAddressList.default([]),
    cc: emailAddressList.default([]),
    events: eventList.optional(),
    digestThreshold: z.number().int().min(1).optional(),
    timeout: duration('timeout').default(20_000),
  })
  .strict()
  .superRefine((channel, ctx) => {
    if (!channel.smtpUrl && !channel.host) {
      ctx.addIssue({ code: 'custom', message: 'needs either smtpUrl or host' });
    }
    if (channel.smtpUrl && channel.host) {
      ctx.addIssue({ code: 'custom', message: 'give smtpUrl or host/port/secure/auth, not both' });
    }
    if (channel.to.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'an email channel needs at least one recipient' });
    }
  });

const channelSchema = z.discriminatedUnion('type', [slackChannelSchema, emailChannelSchema], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'channel type must be "slack" or "email"' : undefined,
});

const planSchema = z
  .object({
    id: z.string().regex(PLAN_ID, 'is not a DBS backup plan id'),
    /** Human name used in messages. Default: the id. */
    name: z.string().min(1).max(200).optional(),
    interval: duration('interval', MAX_SCHEDULE_MS).optional(),
    notify: z.array(z.string()).optional(),
    events: eventList.optional(),
  })
  .strict();

const rawSchema = z
  .object({
    redis: z
      .object({
        url: secretUrl('redis.url', ['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
        /** BullMQ/key prefix. Use a hash tag like `{dbswatch}` on Redis Cluster. Default: dbswatch. */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9{}_.-]+$/, 'may hold only letters, digits and {}_.-')
          .default('dbswatch'),
      })
      .strict()
      .prefault({}),
    dbs: z
      .object({
        endpoint: z
          .string()
          .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host[:port] without a scheme')
          .default('dbs-api.cn-hangzhou.aliyuncs.com'),
        protocol: z.enum(['https', 'http']).default('https'),
        pageSize: z.union([z.literal(30), z.literal(50), z.literal(100)], {
          error: 'must be 30, 50 or 100',
        }).default(100),
        /** Global request budget across every worker. Default: 5. */
        requestsPerSecond: z.number().positive().max(1000).default(5),
        timeout: duration('dbs.timeout').default(10_000),
        /** `incremental`: between full sweeps, stop paging once nothing older can have changed; `full`: read every page every poll. Default: incremental. */
        sweep: z.enum(['incremental', 'full'], { error: 'must be incremental or full' }).default('incremental'),
        /** Longest time between two full sweeps of a plan (the only ones that verify the list order and forget vanished tasks). Default: 1h. */
        fullSweepEvery: duration('dbs.fullSweepEvery').default(3_600_000),
      })
      .strict()
      .prefault({}),
    defaults: z
      .object({
        interval: duration('defaults.interval', MAX_SCHEDULE_MS).default(60_000),
        notify: z.array(z.string()).default([]),
        events: eventList.default(['finished', 'failed']),
        /** Notify tasks already finished/stopped on a plan's very first poll. Default: false (silent baseline). */
        notifyOnFirstSight: z.boolean().default(false),
        /** Forget a task after this many complete polls without it. Default: 3. */
        forgetAfterMissedPolls: z.number().int().min(1).default(3),
      })
      .strict()
      .prefault({}),
    plans: z.array(planSchema).default([]),
    discover: z
      .object({
        enabled: z.boolean().default(false),
        interval: duration('discover.interval', MAX_SCHEDULE_MS).default(600_000),
        notify: z.array(z.string()).optional(),
        events: eventList.optional(),
      })
      .strict()
      .prefault({}),
    channels: z.record(z.string(), channelSchema).default({}),
    poll: z
      .object({
        /** Poll jobs run at once per worker process. Default: 4. */
        concurrency: z.number().int().min(1).max(256).default(4),
        /** Attempts for a failing poll before it waits for the next tick. Default: 5. */
        attempts: z.number().int().min(1).max(50).default(5),
        /** First retry delay; doubles each attempt, with jitter. Default: 5s. */
        backoff: duration('poll.backoff').default(5_000),
      })
      .strict()
      .prefault({}),
    notify: z
      .object({
        concurrency: z.number().int().min(1).max(256).default(4),
        /** Delivery attempts; the default (14, from 10s doubling, capped at 10m) covers about an hour. */
        attempts: z.number().int().min(1).max(100).default(14),
        backoff: duration('notify.backoff').default(10_000),
        maxBackoff: duration('notify.maxBackoff').default(600_000),
        /** More notifications than this for one channel in one poll become a digest. Default: 5. */
        digestThreshold: z.number().int().min(1).default(5),
        /** How long delivered notification ids are kept for dedupe. Default: 7d. */
        keepDelivered: duration('notify.keepDelivered', MAX_SCHEDULE_MS).default(7 * 86_400_000),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        /** 0 disables the HTTP server. Default: 9464. */
        port: z.number().int().min(0).max(65535).default(9464),
        /** Default: 127.0.0.1 (loopback only). */
        host: z.string().min(1).default('127.0.0.1'),
        /** Required for anything beyond health and metrics when host is not loopback. */
        authToken: z.string().min(16, 'must be at least 16 characters').optional(),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({ deadline: duration('shutdown.deadline').default(25_000) })
      .strict()
      .prefault({}),
  })
  .strict();

type RawConfig = z.output<typeof rawSchema>;
export type SlackChannelConfig = z.output<typeof slackChannelSchema> & { readonly name: string };
export type EmailChannelConfig = z.output<typeof emailChannelSchema> & { readonly name: string };
export type ChannelConfig = SlackChannelConfig | EmailChannelConfig;
export type ChannelKind = ChannelConfig['type'];

/** A plan with every default filled in. */
export interface PlanConfig {
  readonly id: string;
  /** Default: the id. */
  readonly name: string;
  readonly intervalMs: number;
  /** Channel names. Default: defaults.notify. */
  readonly notify: readonly string[];
  /** Default: defaults.events. */
  readonly events: readonly EventKind[];
  /** True when the plan came from discovery rather than the config file. */
  readonly discovered: boolean;
}

export interface Config {
  readonly redis: RawConfig['redis'];
  readonly dbs: RawConfig['dbs'];
  readonly defaults: RawConfig['defaults'];
  readonly plans: readonly PlanConfig[];
  readonly discover: RawConfig['discover'];
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly poll: RawConfig['poll'];
  readonly notify: RawConfig['notify'];
  readonly http: RawConfig['http'];
  readonly shutdown: RawConfig['shutdown'];
  /** Where the config came from, for messages. */
  readonly source: string;
}

export const MIN_INTERVAL_MS = 5_000;

// ---------------------------------------------------------------------------
// Interpolation

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

/** Replaces `${VAR}` in every string of the parsed YAML; `$$` is a literal `$`. */
function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[],
  problems: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_whole, name: string | undefined) => {
      if (name === undefined) return '$';
      const resolved = env[name];
      if (resolved === undefined || resolved === '') {
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, [...path, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], problems)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------
// Loading

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Reads a value at a path of an untyped document, or undefined. */
function at(doc: unknown, ...path: (string | number)[]): unknown {
  let cursor = doc;
  for (const key of path) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = (cursor as Record<string | number, unknown>)[key];
  }
  return cursor;
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * Cross-field rules zod cannot see one object at a time. They run on the
 * interpolated document even when the schema fails, so one run names every
 * problem; values the schema already rejects are skipped here.
 */
function crossFieldProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const channelNames = new Set(Object.keys(asRecord(at(doc, 'channels'))));
  const checkNotify = (list: unknown, path: string) => {
    asArray(list).forEach((name, i) => {
      if (typeof name === 'string' && !channelNames.has(name)) {
        const known = [...channelNames].join(', ') || 'none defined';
        problems.push(`${path}[${i}]: unknown channel "${name}" (channels: ${known})`);
      }
    });
  };
  const tooShort = (value: unknown) => {
    const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
    return ms !== undefined && ms < MIN_INTERVAL_MS;
  };
  for (const name of channelNames) {
    if (!CHANNEL_NAME.test(name)) {
      problems.push(`channels.${name}: a channel name may hold only letters, digits and _.- (max 64)`);
    }
  }
  checkNotify(at(doc, 'defaults', 'notify'), 'defaults.notify');
  checkNotify(at(doc, 'discover', 'notify'), 'discover.notify');
  const seen = new Map<string, number>();
  asArray(at(doc, 'plans')).forEach((plan, i) => {
    checkNotify(at(plan, 'notify'), `plans[${i}].notify`);
    const id = at(plan, 'id');
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) problems.push(`plans[${i}].id: duplicate plan id "${id}" (also plans[${first}])`);
      else seen.set(id, i);
    }
    if (tooShort(at(plan, 'interval'))) problems.push(`plans[${i}].interval: must be at least 5s`);
  });
  if (tooShort(at(doc, 'defaults', 'interval'))) problems.push('defaults.interval: must be at least 5s');
  if (tooShort(at(doc, 'discover', 'interval'))) problems.push('discover.interval: must be at least 5s');
  const host = at(doc, 'http', 'host');
  const port = at(doc, 'http', 'port');
  if (typeof host === 'string' && port !== 0 && !isLoopbackHost(host) && !at(doc, 'http', 'authToken')) {
    problems.push(
      `http.authToken: required when http.host (${host}) is not loopback — the status page and its actions would be open to the network`,
    );
  }
  return problems;
}

function resolve(raw: RawConfig, source: string): Config {
  const plans: PlanConfig[] = raw.plans.map((plan) => ({
    id: plan.id,
    name: plan.name ?? plan.id,
    intervalMs: plan.interval ?? raw.defaults.interval,
    notify: plan.notify ?? raw.defaults.notify,
    events: plan.events ?? raw.defaults.events,
    discovered: false,
  }));
  const channels = Object.fromEntries(
    Object.entries(raw.channels).map(([name, channel]) => [name, { ...channel, name }]),
  ) as Record<string, ChannelConfig>;
  return deepFreeze({
    redis: raw.redis,
    dbs: raw.dbs,
    defaults: raw.defaults,
    plans,
    discover: raw.discover,
    channels,
    poll: raw.poll,
    notify: raw.notify,
    http: raw.http,
    shutdown: raw.shutdown,
    source,
  });
}

/**
 * Parses config text. Collects every problem (YAML, missing variables,
 * schema, cross-field) into one `ConfigError` rather than stopping at the first.
 */
export function parseConfig(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  source = '<config>',
): Config {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([`the file is not valid YAML: ${detail}`], source);
  }
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(['the file must hold a YAML mapping (key: value) at the top level'], source);
  }
  const problems: string[] = [];
  const interpolated = interpolate(document, env, [], problems) as Record<string, unknown>;
  if (env.REDIS_URL) {
    const redis = (interpolated.redis ?? {}) as Record<string, unknown>;
    interpolated.redis = { ...redis, url: env.REDIS_URL };
  }
  const parsed = rawSchema.safeParse(interpolated);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An unset variable already explains why its value is empty.
      const path = formatPath(issue.path);
      if (problems.some((p) => p.startsWith(`${path}:`))) continue;
      problems.push(`${path}: ${describeIssue(issue)}`);
    }
  }
  for (const problem of crossFieldProblems(interpolated)) {
    if (!problems.includes(problem)) problems.push(problem);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, source);
  return resolve(parsed.data, source);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `is required (${issue.expected})`;
  }
  return issue.message;
}

/** Picks the config path: `--config`, else `DBSWATCH_CONFIG`, else the default. */
export function configPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag ?? env.DBSWATCH_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** Reads and parses a config file. */
export function loadConfig(path: string, env: Readonly<Record<string, string | undefined>>): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new ConfigError([`cannot read the config file: ${why}`], path);
  }
  return parseConfig(text, env, path);
}

/** Channels a transition of `event` on `plan` goes to, in config order. */
export function routeEvent(config: Config, plan: PlanConfig, event: EventKind): ChannelConfig[] {
  if (!plan.events.includes(event)) return [];
  const out: ChannelConfig[] = [];
  for (const name of plan.notify) {
    const channel = config.channels[name];
    if (channel && (channel.events ?? EVENT_KINDS).includes(event)) out.push(channel);
  }
  return out;
}

/** The plan settings that discovered plans get. */
export function discoveredPlan(config: Config, id: string, name: string | undefined): PlanConfig {
  return {
    id,
    name: name || id,
    intervalMs: config.defaults.interval,
    notify: config.discover.notify ?? config.defaults.notify,
    events: config.discover.events ?? config.defaults.events,
    discovered: true,
  };
}

// ---------------------------------------------------------------------------
// Masking, for check-config and the status page

/** Hides credentials in a URL: keeps scheme and host, hides user info, path and query. */
export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    const auth = url.username || url.password ? '***@' : '';
    const path = url.pathname && url.pathname !== '/' ? '/***' : '';
    return `${url.protocol}//${auth}${url.host}${path}${url.search ? '?***' : ''}`;
  } catch {
    return '***';
  }
}

/** The resolved config with every secret masked, safe to print. */
export function maskedConfig(config: Config): unknown {
  const channels = Object.fromEntries(
    Object.entries(config.channels).map(([name, channel]) => {
      if (channel.type === 'slack') return [name, { ...channel, webhookUrl: maskUrl(channel.webhookUrl) }];
      return [
        name,
        {
          ...channel,
          ...(channel.smtpUrl ? { smtpUrl: maskUrl(channel.smtpUrl) } : {}),
          ...(channel.auth ? { auth: { user: channel.auth.user, pass: '***' } } : {}),
        },
      ];
    }),
  );
  return {
    ...config,
    redis: { ...config.redis, url: maskUrl(config.redis.url) },
    http: { ...config.http, ...(config.http.authToken ? { authToken: '***' } : {}) },
    channels,
  };
}

/** Every secret value in the config, for redaction of free text. */
export function secretValues(config: Config): string[] {
  const out: string[] = [];
  for (const channel of Object.values(config.channels)) {
    if (channel.type === 'slack') out.push(channel.webhookUrl);
    else {
      if (channel.smtpUrl) out.push(channel.smtpUrl);
      if (channel.auth) out.push(channel.auth.pass);
    }
  }
  if (config.http.authToken) out.push(config.http.authToken);
  try {
    const password = new URL(config.redis.url).password;
    if (password) out.push(decodeURIComponent(password));
  } catch {
    // validated already
  }
  return out.filter((s) => s.length >= 6);
}
