/**
 * Configuration: one YAML file, `${VAR}` interpolation, validated once by zod
 * into a frozen, typed `Config`. Nothing else in dbswatch reads `process.env`
 * for settings: callers pass the environment in.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { DEFAULT_REGION, dbsHostForRegion, KNOWN_REGIONS } from './dbs/endpoints.js';
import { destinationProblem, isEmailAddress } from './destinations.js';
import { EVENT_KINDS, type EventKind, WATCHDOG_EVENTS } from './domain.js';
import { parseDuration } from './text/duration.js';
import { parseHostPattern } from './web/hosts.js';

export const DEFAULT_CONFIG_PATH = 'config/dbswatch.yaml';

/** Raised when the config cannot be loaded; `problems` lists every issue, each naming its key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  /** The problems as `{ path, message }` (path `""` for the file as a whole), for `check-config --json`. */
  get details(): { path: string; message: string }[] {
    return this.problems.map((problem) => {
      const match = /^((?:[A-Za-z0-9_{}*.-]|\[\d+\])+|\(top level\)): (.*)$/s.exec(problem);
      return match?.[1] && match[2] !== undefined ? { path: match[1], message: match[2] } : { path: '', message: problem };
    });
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
      const shown =
        typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value === 'number' ? String(value) : `a ${value === null ? 'null' : typeof value}`;
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

// ---------------------------------------------------------------------------
// Alerting (reminders, silences, watchdog, time zone and language per channel)

/** Languages messages and the status page are written in. Default: en. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** True when Intl knows the IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
const timeZone = z.string().refine(isTimeZone, { message: 'is not an IANA time zone name (e.g. "UTC", "Asia/Shanghai")' });

/** Re-announce a failed download `times` times, `every` apart, until resolved. Default: off. */
const remindSchema = z
  .object({
    every: duration('remind.every').refine((ms) => ms >= 1_000, 'remind.every must be at least 1s (hours are usual)'),
    times: z.number().int().min(0).max(50),
  })
  .strict();
export type RemindConfig = z.output<typeof remindSchema>;

/** Per-channel rendering and reminders; spread into every channel schema. */
const channelAlertingFields = {
  /** IANA time zone for the times in messages. Default: UTC. */
  timezone: timeZone.default('UTC'),
  /** Language of the messages. Default: en. */
  locale: z.enum(LOCALES, { error: `must be one of ${LOCALES.join(', ')}` }).default('en'),
  /** Overrides the plan's remind for this channel. Default: the plan's. */
  remind: remindSchema.optional(),
};

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'is not a date-time (use ISO 8601, e.g. 2026-05-01T22:00:00+08:00)' })
  .transform((s) => Date.parse(s));
/** A config silence: matching notifications are recorded as silenced and not sent. */
const silenceSchema = z
  .object({
    /** Plan id globs (`*` any run of characters). Default: every plan. */
    plans: z.array(z.string().min(1)).min(1).optional(),
    /** Default: every event (task and watchdog events). */
    events: z
      .array(z.enum([...EVENT_KINDS, ...WATCHDOG_EVENTS]))
      .min(1)
      .optional(),
    /** Default: every channel. */
    channels: z.array(z.string()).min(1).optional(),
    from: isoTime.optional(),
    until: isoTime.optional(),
    /** Recurring window, e.g. `{ days: [sat, sun], start: "00:00", end: "06:00", timezone: Asia/Shanghai }`. */
    weekly: z
      .object({
        days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1),
        start: z.string().regex(HH_MM, 'must be HH:MM'),
        end: z.string().regex(HH_MM, 'must be HH:MM'),
        timezone: timeZone.default('UTC'),
      })
      .strict()
      .optional(),
    reason: z.string().min(1).max(500),
    /** Send what was silenced once the silence ends. Default: false (dropped, but recorded). */
    replay: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.until === undefined && !s.weekly) ctx.addIssue({ code: 'custom', message: 'needs "until" or "weekly" (a silence must end)' });
    if (s.from !== undefined && s.until !== undefined && s.until <= s.from) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after "from"' });
  });
export type SilenceConfig = z.output<typeof silenceSchema>;

/** dbswatch watching itself; events go to `notify` like any other. */
const watchdogSchema = z
  .object({
    /** Channels for watchdog events. Default: none (watchdog off). */
    notify: z.array(z.string()).default([]),
    /** Consecutive failed polls before `plan-failing` (a permanent error counts at once). Default: 3. */
    failingAfter: z.number().int().min(1).max(100).default(3),
    /** Consecutive successes before `plan-recovered` / `notifications-recovered` (hysteresis). Default: 2. */
    recoverAfter: z.number().int().min(1).max(100).default(2),
    /** `plan-stale` after this many intervals without a successful poll. Default: 3. */
    staleAfterIntervals: z.number().min(1.5).max(100).default(3),
  })
  .strict()
  .prefault({});

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
    /** How long to wait for Slack's answer; past it the outcome is unknown and a retry may duplicate. Default: 30s. */
    timeout: duration('timeout').default(30_000),
    /** Allow private, link-local and metadata addresses (src/destinations.ts). Default: false. */
    allowPrivateDestinations: z.boolean().default(false),
    ...channelAlertingFields,
  })
  .strict()
  .superRefine((channel, ctx) => {
    const refused = channel.allowPrivateDestinations ? undefined : destinationProblem(channel.webhookUrl, 'webhookUrl');
    if (refused) ctx.addIssue({ code: 'custom', path: ['webhookUrl'], message: refused });
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

const emailAddress = z.string().refine(isEmailAddress, { message: 'is not an email address (name@host or "Name <name@host>")' });
const emailAddressList = z.array(emailAddress);

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
    auth: z
      .object({ user: z.string().min(1), pass: z.string().min(1) })
      .strict()
      .optional(),
    from: emailAddress,
    to: emailAddressList.default([]),
    cc: emailAddressList.default([]),
    events: eventList.optional(),
    digestThreshold: z.number().int().min(1).optional(),
    /** How long the SMTP server may stay silent (e.g. answering DATA) before the outcome is unknown. Default: 60s. */
    timeout: duration('timeout').default(60_000),
    /** Allow private, link-local and metadata addresses (src/destinations.ts). Default: false. */
    allowPrivateDestinations: z.boolean().default(false),
    ...channelAlertingFields,
  })
  .strict()
  .superRefine((channel, ctx) => {
    // nodemailer sends to localhost when the URL names no host: refuse rather than guess.
    if (channel.smtpUrl && URL.canParse(channel.smtpUrl) && !new URL(channel.smtpUrl).hostname) {
      ctx.addIssue({ code: 'custom', path: ['smtpUrl'], message: 'smtpUrl names no host (smtp://host:587 or smtp://user:pass@host:587)' });
    }
    const target = channel.smtpUrl ?? (channel.host ? `smtp://${channel.host.includes(':') ? `[${channel.host}]` : channel.host}` : undefined);
    const refused = channel.allowPrivateDestinations || !target ? undefined : destinationProblem(target, channel.smtpUrl ? 'smtpUrl' : 'host');
    if (refused) ctx.addIssue({ code: 'custom', path: [channel.smtpUrl ? 'smtpUrl' : 'host'], message: refused });
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

// ---- Chat platforms and the signed generic webhook (src/notify/{webhook,dingtalk,feishu,wecom,teams}.ts)

/** An https URL (plain http only to loopback, for tests and local sinks); messages never repeat the value. */
const chatUrl = (what: string) =>
  secretUrl(what, ['https:', 'http:']).superRefine((value, ctx) => {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({ code: 'custom', message: `${what} must be https (plain http is allowed only to a loopback address)` });
      }
    } catch {
      // already reported by secretUrl
    }
  });

/** Keys every chat channel shares with Slack. */
const chatCommon = {
  events: eventList.optional(),
  digestThreshold: z.number().int().min(1).optional(),
  /** HTTP timeout for one call. Default: 10s. */
  timeout: duration('timeout').default(10_000),
  /** Wait after the platform says "rate limited" without a Retry-After. Default: per platform (src/notify/rate-limits.ts). */
  rateLimitBackoff: duration('rateLimitBackoff').optional(),
  /** Allow private, link-local and metadata addresses (src/destinations.ts). Default: false. */
  allowPrivateDestinations: z.boolean().default(false),
  ...channelAlertingFields,
};

/** Refuses private, link-local and metadata destinations unless the channel allows them (like Slack's check). */
const refusePrivateDestination =
  <K extends string>(key: K) =>
  (channel: { readonly allowPrivateDestinations: boolean } & Readonly<Record<K, string>>, ctx: z.RefinementCtx) => {
    const refused = channel.allowPrivateDestinations ? undefined : destinationProblem(channel[key], key);
    if (refused) ctx.addIssue({ code: 'custom', path: [key], message: refused });
  };

/** Header names dbswatch sets itself and an operator may not override. */
const RESERVED_HEADERS = /^(webhook-(id|timestamp|signature)|content-type|content-length|host)$/i;

const webhookChannelSchema = z
  .object({
    type: z.literal('webhook'),
    url: chatUrl('url'),
    /** Standard Webhooks signing secret: `whsec_` + base64 of 24–64 random bytes. */
    secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be "whsec_" followed by base64 (at least 24 bytes; value hidden)'),
    /** Extra request headers (e.g. an API key of the receiver). Default: none. */
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'is not a valid header name'), z.string().max(4096))
      .refine((h) => !Object.keys(h).some((k) => RESERVED_HEADERS.test(k)), 'may not set webhook-*, content-type, content-length or host')
      .optional(),
    /** Requests per second to this receiver, across all workers. Default: 10. */
    ratePerSecond: z.number().positive().max(1000).default(10),
    ...chatCommon,
  })
  .strict()
  .superRefine(refusePrivateDestination('url'));

const dingtalkChannelSchema = z
  .object({
    type: z.literal('dingtalk'),
    /** `https://oapi.dingtalk.com/robot/send?access_token=…` */
    webhookUrl: chatUrl('webhookUrl'),
    /** The robot's "加签" secret (starts with SEC); without it requests are unsigned. Default: none. */
    secret: z.string().min(8, 'is too short for a DingTalk signing secret (value hidden)').optional(),
    /** `actionCard` (a button per download link) or `markdown` (inline links). Default: actionCard. */
    messageType: z.enum(['actionCard', 'markdown']).default('actionCard'),
    ...chatCommon,
  })
  .strict()
  .superRefine(refusePrivateDestination('webhookUrl'));

const feishuChannelSchema = z
  .object({
    type: z.literal('feishu'),
    /** `https://open.feishu.cn/open-apis/bot/v2/hook/…` or `https://open.larksuite.com/open-apis/bot/v2/hook/…` */
    webhookUrl: chatUrl('webhookUrl'),
    /** The bot's signature-verification secret; without it requests are unsigned. Default: none. */
    secret: z.string().min(8, 'is too short for a Feishu signing secret (value hidden)').optional(),
    ...chatCommon,
  })
  .strict()
  .superRefine(refusePrivateDestination('webhookUrl'));

const wecomChannelSchema = z
  .object({
    type: z.literal('wecom'),
    /** `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` (the key is the credential). */
    webhookUrl: chatUrl('webhookUrl'),
    ...chatCommon,
  })
  .strict()
  .superRefine(refusePrivateDestination('webhookUrl'));

const teamsChannelSchema = z
  .object({
    type: z.literal('teams'),
    /** The Workflows "When a Teams webhook request is received" URL (its `sig` parameter is the credential). */
    webhookUrl: chatUrl('webhookUrl'),
    ...chatCommon,
  })
  .strict()
  .superRefine(refusePrivateDestination('webhookUrl'));

const CHANNEL_TYPES = '"slack", "email", "webhook", "dingtalk", "feishu", "wecom" or "teams"';
const channelSchema = z.discriminatedUnion(
  'type',
  [slackChannelSchema, emailChannelSchema, webhookChannelSchema, dingtalkChannelSchema, feishuChannelSchema, wecomChannelSchema, teamsChannelSchema],
  { error: (issue) => (issue.code === 'invalid_union' ? `channel type must be ${CHANNEL_TYPES}` : undefined) },
);

/** The account every plan uses unless it names another: `dbs.*` and the default credential chain. */
export const DEFAULT_ACCOUNT = 'default';
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const endpointSchema = z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host[:port] without a scheme');
const regionSchema = z.string().refine((region) => dbsHostForRegion(region) !== undefined, {
  message: `is not a region DBS serves (known: ${KNOWN_REGIONS.join(', ')}); set the endpoint instead for another host`,
});

/**
 * One Alibaba Cloud account (or region) to watch plans in. Credentials: a `profile` of the shared
 * credential file, or `accessKeyId`/`accessKeySecret` (from `${VAR}`s), optionally `roleArn` to assume
 * with them (or with the default chain). None of them: the default credential chain.
 */
const accountSchema = z
  .object({
    id: z.string().regex(ACCOUNT_ID, 'may hold only letters, digits and _.- (max 64)'),
    /** Picks the host from the endpoint map. Default: dbs.region. */
    region: regionSchema.optional(),
    /** `host[:port]`; overrides region. */
    endpoint: endpointSchema.optional(),
    /** Default: dbs.protocol. */
    protocol: z.enum(['https', 'http']).optional(),
    /** A profile name of the shared Alibaba Cloud credential file. */
    profile: z.string().min(1).max(128).optional(),
    accessKeyId: z.string().min(1).optional(),
    accessKeySecret: z.string().min(1).optional(),
    securityToken: z.string().min(1).optional(),
    /** A RAM role to assume (`acs:ram::<uid>:role/<name>`). */
    roleArn: z
      .string()
      .regex(/^acs:ram::\d+:role\/.+$/, 'must look like acs:ram::<account uid>:role/<role name>')
      .optional(),
  })
  .strict()
  .superRefine((account, ctx) => {
    if ((account.accessKeyId === undefined) !== (account.accessKeySecret === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give accessKeyId and accessKeySecret together' });
    }
    if (account.profile && account.accessKeyId) {
      ctx.addIssue({ code: 'custom', message: 'give profile or accessKeyId/accessKeySecret, not both' });
    }
    if (account.securityToken && !account.accessKeyId) {
      ctx.addIssue({ code: 'custom', path: ['securityToken'], message: 'needs accessKeyId and accessKeySecret' });
    }
  });

const planSchema = z
  .object({
    id: z.string().regex(PLAN_ID, 'is not a DBS backup plan id'),
    /** `accounts[].id` the plan lives in. Default: the default account. */
    account: z.string().min(1).optional(),
    /** Human name used in messages. Default: the id. */
    name: z.string().min(1).max(200).optional(),
    interval: duration('interval', MAX_SCHEDULE_MS).optional(),
    notify: z.array(z.string()).optional(),
    events: eventList.optional(),
    remind: remindSchema.optional(),
  })
  .strict();

/** An instance id (`rm-…`, `pc-…`, `dds-…`): the same alphabet as a plan id, minus `*`. */
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** A RegionCode such as `cn-hangzhou` or `cn-shanghai-finance-1`. */
const REGION_CODE = /^[a-z]{2,}(-[a-z0-9]+){1,4}$/;
/** Validity of a minted download link: what DescribeDownloadBackupSetStorageInfo accepts (300 s – 24 h). */
export const LINK_VALIDITY_MIN_MS = 300_000;
export const LINK_VALIDITY_MAX_MS = 86_400_000;

const instanceSchema = z
  .object({
    /** The instance (cluster) id, e.g. `rm-2ze8g2am97624xxxx`. */
    id: z.string().regex(INSTANCE_ID, 'is not a database instance id (e.g. rm-…, pc-…, dds-…)'),
    /** RegionCode of the instance, e.g. `cn-beijing`. */
    region: z.string().regex(REGION_CODE, 'is not a region code (e.g. cn-hangzhou)'),
    /** Account whose credentials read this instance. Default: the default credential chain. */
    account: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'is not an account name')
      .optional(),
    /** Human name used in messages. Default: the id. */
    name: z.string().min(1).max(200).optional(),
    interval: duration('interval', MAX_SCHEDULE_MS).optional(),
    notify: z.array(z.string()).optional(),
    events: eventList.optional(),
    /** How long minted download links stay valid. Default: 24h (DBS accepts 300s–24h). */
    linkValidity: duration('linkValidity')
      .refine((ms) => ms >= LINK_VALIDITY_MIN_MS && ms <= LINK_VALIDITY_MAX_MS, 'must be between 5m (300s) and 24h')
      .default(LINK_VALIDITY_MAX_MS),
    /** `expiring` events fire this long before a finished URL download's 3-day expiry. Default: 12h. */
    expiringNotice: duration('expiringNotice')
      .refine((ms) => ms >= 60_000 && ms < 3 * 86_400_000, 'must be between 1m and 3d')
      .default(12 * 3_600_000),
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
        /** Region of the default account: picks the host from the endpoint map. Default: cn-hangzhou. */
        region: regionSchema.default(DEFAULT_REGION),
        /** `host[:port]`, overrides region. Default: the region's host. */
        endpoint: endpointSchema.optional(),
        protocol: z.enum(['https', 'http']).default('https'),
        pageSize: z
          .union([z.literal(30), z.literal(50), z.literal(100)], {
            error: 'must be 30, 50 or 100',
          })
          .default(100),
        /** Global request budget across every worker. Default: 5. */
        requestsPerSecond: z.number().positive().max(1000).default(5),
        timeout: duration('dbs.timeout').default(10_000),
        /** Largest DBS response read; a bigger one fails the poll (ResponseTooLarge). Default: 20 MB. */
        maxResponseBytes: z
          .number()
          .int()
          .min(65_536)
          .max(1_073_741_824)
          .default(20 * 1_048_576),
        /** Pages one poll of one plan may read (each pass), so a runaway list cannot hold the budget. Default: 2,000 (200,000 tasks). */
        maxPagesPerPoll: z.number().int().min(1).max(100_000).default(2_000),
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
        /** Delete the state of a plan this long after it left the config (or discovery). Default: 7d. */
        forgetRemovedPlansAfter: duration('defaults.forgetRemovedPlansAfter', MAX_SCHEDULE_MS).default(7 * 86_400_000),
        /** An `init` without ErrMessage (not after `checking`) is a failure once seen on this many polls. Default: 3. */
        initFailedAfter: z.number().int().min(1).max(1000).default(3),
        /** Polls a finished manual task waits for its download links before it is announced without them. Default: 3. */
        waitForLinks: z.number().int().min(0).max(1000).default(3),
        /** Reminders for failed downloads. Default: off. */
        remind: remindSchema.optional(),
      })
      .strict()
      .prefault({}),
    accounts: z.array(accountSchema).default([]),
    plans: z.array(planSchema).default([]),
    /** Database instances whose 2021-01-01 advanced download tasks are watched. Default: none. */
    instances: z.array(instanceSchema).default([]),
    discover: z
      .object({
        enabled: z.boolean().default(false),
        interval: duration('discover.interval', MAX_SCHEDULE_MS).default(600_000),
        notify: z.array(z.string()).optional(),
        events: eventList.optional(),
        /** Accounts to discover plans in. Default: the default account. */
        accounts: z.array(z.string().min(1)).min(1, 'must name at least one account').default([DEFAULT_ACCOUNT]),
        /** Globs (`*`, `?`) on plan id or name; a plan must match one. Default: every plan. */
        include: z.array(z.string().min(1).max(200)).optional(),
        /** Globs on plan id or name; a matching plan is skipped. Default: none. */
        exclude: z.array(z.string().min(1).max(200)).default([]),
        /** Plan statuses to track. Default: every status except `wait` (a plan not yet configured). */
        statuses: z
          .array(z.string().regex(/^[A-Za-z_]{1,32}$/, 'is not a backup plan status'))
          .min(1)
          .optional(),
        /** DescribeBackupPlanList `Region` filter (region of the source database). Default: none. */
        region: z
          .string()
          .regex(/^[a-z0-9-]{2,40}$/, 'is not a region id')
          .optional(),
        /** DescribeBackupPlanList `ResourceGroupId` filter. Default: none. */
        resourceGroupId: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, 'is not a resource group id')
          .optional(),
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
        /** …and at most this many (delivered jobs and markers each; the oldest go first). Default: 100,000. */
        keepDeliveredCount: z.number().int().min(100).max(10_000_000).default(100_000),
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
        /** Extra `Host` names the server answers (DNS-rebinding protection): `name`, `*.name`, `name:port`, `[v6]:port`. Default: none (localhost, the bound address and the connection's own IP only). */
        allowedHosts: z
          .array(
            z
              .string()
              .refine(
                (v) => parseHostPattern(v) !== undefined,
                'must be host or host:port: a name (optionally *.name), an IPv4 address or a [bracketed] IPv6 address',
              ),
          )
          .optional(),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({ deadline: duration('shutdown.deadline').default(25_000) })
      .strict()
      .prefault({}),
    silences: z.array(silenceSchema).default([]),
    watchdog: watchdogSchema,
  })
  .strict();

type RawConfig = z.output<typeof rawSchema>;
export type SlackChannelConfig = z.output<typeof slackChannelSchema> & { readonly name: string };
export type EmailChannelConfig = z.output<typeof emailChannelSchema> & { readonly name: string };
export type WebhookChannelConfig = z.output<typeof webhookChannelSchema> & { readonly name: string };
export type DingtalkChannelConfig = z.output<typeof dingtalkChannelSchema> & { readonly name: string };
export type FeishuChannelConfig = z.output<typeof feishuChannelSchema> & { readonly name: string };
export type WecomChannelConfig = z.output<typeof wecomChannelSchema> & { readonly name: string };
export type TeamsChannelConfig = z.output<typeof teamsChannelSchema> & { readonly name: string };
/** The HTTP chat channels and the generic webhook: one URL, maybe a secret. */
export type ChatChannelConfig = WebhookChannelConfig | DingtalkChannelConfig | FeishuChannelConfig | WecomChannelConfig | TeamsChannelConfig;
export type ChannelConfig = SlackChannelConfig | EmailChannelConfig | ChatChannelConfig;
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
  /** Default: defaults.remind (off). */
  readonly remind?: RemindConfig;
  /** `accounts[].id` the plan lives in. Absent: the default account. */
  readonly account?: string;
}

/** A DBS account with its endpoint resolved (see src/dbs/accounts.ts). */
export interface AccountConfig {
  readonly id: string;
  /** `host[:port]`. */
  readonly endpoint: string;
  readonly protocol: 'http' | 'https';
  /** Region the endpoint was picked for; absent when an endpoint was given. */
  readonly region?: string;
  readonly credential:
    | { readonly kind: 'chain' }
    | { readonly kind: 'profile'; readonly profile: string }
    | { readonly kind: 'keys'; readonly accessKeyId: string; readonly accessKeySecret: string; readonly securityToken?: string };
  /** A RAM role assumed with `credential`. */
  readonly roleArn?: string;
}

/** An instance (advanced downloads, API 2021-01-01) with every default filled in. */
export interface InstanceConfig {
  readonly id: string;
  /** RegionCode. */
  readonly region: string;
  /** Default: none (the default credential chain). */
  readonly account?: string;
  /** Default: the id. */
  readonly name: string;
  readonly intervalMs: number;
  /** Default: defaults.notify. */
  readonly notify: readonly string[];
  /** Default: defaults.events, plus `expired` when that includes `finished`. */
  readonly events: readonly EventKind[];
  /** Default: 24h. */
  readonly linkValidityMs: number;
  /** Default: 12h. */
  readonly expiringNoticeMs: number;
}

export interface Config {
  readonly redis: RawConfig['redis'];
  /** `endpoint` resolved from `region` when not given. */
  readonly dbs: RawConfig['dbs'] & { readonly endpoint: string };
  /** The default account first (id `default`), then `accounts:`. */
  readonly accounts: readonly AccountConfig[];
  readonly defaults: RawConfig['defaults'];
  readonly plans: readonly PlanConfig[];
  /** Default: none. */
  readonly instances: readonly InstanceConfig[];
  readonly discover: RawConfig['discover'];
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly poll: RawConfig['poll'];
  readonly notify: RawConfig['notify'];
  readonly http: RawConfig['http'];
  readonly shutdown: RawConfig['shutdown'];
  readonly silences: RawConfig['silences'];
  readonly watchdog: RawConfig['watchdog'];
  /** Where the config came from, for messages. */
  readonly source: string;
}

export const MIN_INTERVAL_MS = 5_000;

// ---------------------------------------------------------------------------
// Interpolation

/** `$$`, `${VAR}`, `${VAR:-default}` (unset or empty → default) and `${VAR:?message}` (unset or empty → problem). */
const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

/** What interpolation learnt about the document, for coercion and for printing it back. */
interface Interpolation {
  readonly problems: string[];
  /** Paths (formatted) whose string came from a variable: the only strings coerced to numbers/booleans. */
  readonly fromVariables: Set<string>;
}

/** Replaces the variables in every string of the parsed YAML; `$$` is a literal `$`. */
function interpolate(value: unknown, env: Readonly<Record<string, string | undefined>>, path: PropertyKey[], state: Interpolation): unknown {
  if (typeof value === 'string') {
    let used = false;
    const out = value.replace(VARIABLE, (_whole, name: string | undefined, operator: string | undefined, argument: string | undefined) => {
      if (name === undefined) return '$';
      used = true;
      const resolved = env[name];
      if (resolved !== undefined && resolved !== '') return resolved;
      if (operator === ':-') return argument ?? '';
      const why = resolved === undefined ? 'is not set' : 'is empty';
      const hint = operator === ':?' && argument ? `: ${argument}` : '';
      state.problems.push(`${formatPath(path)}: environment variable ${name} ${why}${hint}`);
      return '';
    });
    if (used) state.fromVariables.add(formatPath(path));
    return out;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, [...path, i], state));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], state)]));
  }
  return value;
}

/**
 * Keys that hold a secret. Each also accepts `<key>File`: a path whose
 * content (trailing whitespace dropped) is the value — Docker and Kubernetes
 * secrets. Generic on purpose, so a new channel's `url`/`secret` gets it too.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'webhookUrl',
  'smtpUrl',
  'url',
  'secret',
  'authToken',
  'accessKeyId',
  'accessKeySecret',
  'securityToken',
  'pass',
  'password',
  'token',
]);

/** Replaces every `<secret>File` key by the file's content, in place on the interpolated document. */
function readSecretFiles(value: unknown, path: PropertyKey[], problems: string[]): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) readSecretFiles(item, [...path, i], problems);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    const base = key.endsWith('File') ? key.slice(0, -4) : '';
    if (!SECRET_KEYS.has(base)) {
      readSecretFiles(child, [...path, key], problems);
      continue;
    }
    const where = formatPath([...path, key]);
    delete record[key];
    if (base in record) {
      problems.push(`${where}: give ${base} or ${key}, not both`);
    } else if (typeof child !== 'string' || child === '') {
      problems.push(`${where}: must be the path of a file holding the ${base}`);
    } else {
      try {
        record[base] = readFileSync(child, 'utf8').replace(/\s+$/, '');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code);
        problems.push(`${where}: cannot read ${child}: ${why}`);
      }
    }
  }
}

/**
 * Validates, turning strings that came from a variable into the number or
 * boolean the schema expects there (`port: ${PORT}`); literal YAML keeps its type.
 */
function parseCoercing(document: Record<string, unknown>, fromVariables: ReadonlySet<string>) {
  for (let round = 0; ; round++) {
    const parsed = rawSchema.safeParse(document);
    if (parsed.success || round === 3) return parsed;
    let changed = false;
    for (const issue of parsed.error.issues) {
      if (!fromVariables.has(formatPath(issue.path))) continue;
      const parent = at(document, ...(issue.path.slice(0, -1) as (string | number)[]));
      const key = issue.path.at(-1) as string | number;
      const raw = parent && typeof parent === 'object' ? (parent as Record<string | number, unknown>)[key] : undefined;
      if (typeof raw !== 'string') continue;
      const coerced = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
      if (coerced === raw) continue;
      (parent as Record<string | number, unknown>)[key] = coerced;
      changed = true;
    }
    if (!changed) return parsed;
  }
}

/** Where a loaded config came from, to print it back as the operator wrote it (`printableConfig`). */
const origins = new WeakMap<Config, { readonly written: unknown; readonly withDefaults: unknown }>();

/** What the operator wrote for a loaded config, and the same with defaults filled in (for `printableConfig`). */
export function configOrigin(config: Config): { readonly written: unknown; readonly withDefaults: unknown } | undefined {
  return origins.get(config);
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
  checkNotify(at(doc, 'watchdog', 'notify'), 'watchdog.notify');
  asArray(at(doc, 'silences')).forEach((silence, i) => {
    checkNotify(at(silence, 'channels'), `silences[${i}].channels`);
  });
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
  const accountIds = new Set<string>([DEFAULT_ACCOUNT]);
  asArray(at(doc, 'accounts')).forEach((account, i) => {
    const id = at(account, 'id');
    if (typeof id !== 'string') return;
    if (accountIds.has(id)) {
      problems.push(
        `accounts[${i}].id: ${id === DEFAULT_ACCOUNT ? '"default" is the built-in account (dbs.*); pick another id' : `duplicate account id "${id}"`}`,
      );
    }
    accountIds.add(id);
  });
  const checkAccount = (value: unknown, path: string) => {
    if (typeof value === 'string' && !accountIds.has(value)) {
      problems.push(`${path}: unknown account "${value}" (accounts: ${[...accountIds].join(', ')})`);
    }
  };
  asArray(at(doc, 'plans')).forEach((plan, i) => {
    checkAccount(at(plan, 'account'), `plans[${i}].account`);
  });
  asArray(at(doc, 'discover', 'accounts')).forEach((id, i) => {
    checkAccount(id, `discover.accounts[${i}]`);
  });
  const seenInstances = new Map<string, number>();
  asArray(at(doc, 'instances')).forEach((instance, i) => {
    checkNotify(at(instance, 'notify'), `instances[${i}].notify`);
    const id = at(instance, 'id');
    if (typeof id === 'string') {
      const first = seenInstances.get(id);
      if (first !== undefined) problems.push(`instances[${i}].id: duplicate instance id "${id}" (also instances[${first}])`);
      else seenInstances.set(id, i);
    }
    if (tooShort(at(instance, 'interval'))) problems.push(`instances[${i}].interval: must be at least 5s`);
    checkAccount(at(instance, 'account'), `instances[${i}].account`);
  });
  if (tooShort(at(doc, 'defaults', 'interval'))) problems.push('defaults.interval: must be at least 5s');
  if (tooShort(at(doc, 'discover', 'interval'))) problems.push('discover.interval: must be at least 5s');
  const host = at(doc, 'http', 'host');
  const port = at(doc, 'http', 'port');
  if (typeof host === 'string' && port !== 0 && !isLoopbackHost(host) && !at(doc, 'http', 'authToken')) {
    problems.push(`http.authToken: required when http.host (${host}) is not loopback — the status page and its actions would be open to the network`);
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
    ...(plan.account && plan.account !== DEFAULT_ACCOUNT ? { account: plan.account } : {}),
    ...((plan.remind ?? raw.defaults.remind) ? { remind: (plan.remind ?? raw.defaults.remind) as RemindConfig } : {}),
  }));
  const dbs = { ...raw.dbs, endpoint: raw.dbs.endpoint ?? (dbsHostForRegion(raw.dbs.region) as string) };
  const accounts: AccountConfig[] = [
    { id: DEFAULT_ACCOUNT, endpoint: dbs.endpoint, protocol: dbs.protocol, ...(raw.dbs.endpoint ? {} : { region: dbs.region }), credential: { kind: 'chain' } },
    ...raw.accounts.map((a): AccountConfig => {
      const region = a.region ?? raw.dbs.region;
      const credential: AccountConfig['credential'] =
        a.accessKeyId && a.accessKeySecret
          ? { kind: 'keys', accessKeyId: a.accessKeyId, accessKeySecret: a.accessKeySecret, ...(a.securityToken ? { securityToken: a.securityToken } : {}) }
          : a.profile
            ? { kind: 'profile', profile: a.profile }
            : { kind: 'chain' };
      return {
        id: a.id,
        endpoint: a.endpoint ?? (dbsHostForRegion(region) as string),
        protocol: a.protocol ?? raw.dbs.protocol,
        ...(a.endpoint ? {} : { region }),
        credential,
        ...(a.roleArn ? { roleArn: a.roleArn } : {}),
      };
    }),
  ];
  const instances: InstanceConfig[] = raw.instances.map((instance) => ({
    id: instance.id,
    region: instance.region,
    ...(instance.account !== undefined ? { account: instance.account } : {}),
    name: instance.name ?? instance.id,
    intervalMs: instance.interval ?? raw.defaults.interval,
    notify: instance.notify ?? raw.defaults.notify,
    events:
      instance.events ??
      (raw.defaults.events.includes('finished') && !raw.defaults.events.includes('expired') ? [...raw.defaults.events, 'expired'] : raw.defaults.events),
    linkValidityMs: instance.linkValidity,
    expiringNoticeMs: instance.expiringNotice,
  }));
  const channels = Object.fromEntries(Object.entries(raw.channels).map(([name, channel]) => [name, { ...channel, name }])) as Record<string, ChannelConfig>;
  return deepFreeze({
    redis: raw.redis,
    dbs,
    accounts,
    defaults: raw.defaults,
    plans,
    instances,
    discover: raw.discover,
    channels,
    poll: raw.poll,
    notify: raw.notify,
    http: raw.http,
    shutdown: raw.shutdown,
    silences: raw.silences,
    watchdog: raw.watchdog,
    source,
  });
}

/**
 * Parses config text. Collects every problem (YAML, missing variables,
 * schema, cross-field) into one `ConfigError` rather than stopping at the first.
 */
export function parseConfig(text: string, env: Readonly<Record<string, string | undefined>>, source = '<config>'): Config {
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
  const fromVariables = new Set<string>();
  const interpolated = interpolate(document, env, [], { problems, fromVariables }) as Record<string, unknown>;
  readSecretFiles(interpolated, [], problems);
  if (env.REDIS_URL) {
    const redis = (interpolated.redis ?? {}) as Record<string, unknown>;
    interpolated.redis = { ...redis, url: env.REDIS_URL };
  }
  const parsed = parseCoercing(interpolated, fromVariables);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An unset variable already explains why its value is empty.
      const path = formatPath(issue.path);
      if (problems.some((p) => p.startsWith(`${path}:`) || p.startsWith(`${path}File:`))) continue;
      problems.push(`${path}: ${describeIssue(issue)}`);
    }
  }
  for (const problem of crossFieldProblems(interpolated)) {
    if (!problems.includes(problem)) problems.push(problem);
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, source);
  const config = resolve(parsed.data, source);
  origins.set(config, { written: document, withDefaults: parsed.data });
  return config;
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
