/**
 * Everything dbswatch does to keep secrets secret, in one place: the log
 * paths that may hold one, scrubbing of free text (pre-signed URL query
 * strings and the registered secret values of the config), and masking of a
 * config or URL for printing. AccessKey secrets, webhook URLs, SMTP
 * passwords and tokens never leave the process except to the service they
 * belong to; a pre-signed download URL only in the messages users asked for.
 */
import { type ChatChannelConfig, type Config, configOrigin, SECRET_KEYS } from './config.js';

/** Paths that may hold a secret anywhere in a log object. */
export const REDACT_PATHS = [
  'accessKeySecret',
  'accessKeyId',
  'securityToken',
  'webhookUrl',
  'smtpUrl',
  'password',
  'pass',
  'authToken',
  'authorization',
  'secret',
  'internetUrl',
  'intranetUrl',
  '*.accessKeySecret',
  '*.securityToken',
  '*.webhookUrl',
  '*.smtpUrl',
  '*.password',
  '*.pass',
  '*.authToken',
  '*.authorization',
  '*.secret',
  '*.internetUrl',
  '*.intranetUrl',
  'auth.pass',
  '*.auth.pass',
  'headers.authorization',
  'req.headers.authorization',
  'task.internetUrl',
  'task.intranetUrl',
  '*.task.internetUrl',
  '*.task.intranetUrl',
];

/** Drops the query string and fragment of every http(s) URL in a text: pre-signed URLs carry credentials there. */
export function stripUrlQueries(text: string): string {
  return text.replace(/(https?:)?\/\/[^\s"'<>?#]+[?#][^\s"'<>]*/gi, (url) => url.replace(/[?#].*$/, '?…'));
}

/** Replaces every occurrence of the given secret values in a text. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6) out = out.split(secret).join('***');
  }
  return stripUrlQueries(out);
}

let knownSecrets: readonly string[] = [];

/** The secret values registered so far (for the logger's scrubbing). */
export function registeredSecrets(): readonly string[] {
  return knownSecrets;
}

/** Registers secret values (from the config) that must never be logged, even inside free text. */
export function registerSecrets(secrets: readonly string[]): void {
  knownSecrets = [...new Set([...knownSecrets, ...secrets.filter((s) => s.length >= 6)])];
}

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
      if (channel.type !== 'email') return [name, maskChatChannel(channel)];
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
    accounts: config.accounts.map((a) => ({
      ...a,
      credential:
        a.credential.kind === 'keys'
          ? { kind: 'keys', accessKeyId: a.credential.accessKeyId, accessKeySecret: '***', ...(a.credential.securityToken ? { securityToken: '***' } : {}) }
          : a.credential,
    })),
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
    else if (channel.type !== 'email') out.push(...chatSecrets(channel));
    else {
      if (channel.smtpUrl) out.push(channel.smtpUrl);
      if (channel.auth) out.push(channel.auth.pass);
    }
  }
  if (config.http.authToken) out.push(config.http.authToken);
  for (const account of config.accounts) {
    if (account.credential.kind !== 'keys') continue;
    out.push(account.credential.accessKeySecret);
    if (account.credential.securityToken) out.push(account.credential.securityToken);
  }
  try {
    const password = new URL(config.redis.url).password;
    if (password) out.push(decodeURIComponent(password));
  } catch {
    // validated already
  }
  return out.filter((s) => s.length >= 6);
}

/** A chat/webhook channel with its URL, secret and extra header values masked. */
function maskChatChannel(channel: ChatChannelConfig): unknown {
  if (channel.type === 'webhook') {
    const headers = channel.headers ? Object.fromEntries(Object.keys(channel.headers).map((k) => [k, '***'])) : undefined;
    return { ...channel, url: maskUrl(channel.url), secret: '***', ...(headers ? { headers } : {}) };
  }
  const secret = 'secret' in channel && channel.secret ? { secret: '***' } : {};
  return { ...channel, webhookUrl: maskUrl(channel.webhookUrl), ...secret };
}

/** The URL, its query values (access_token, key, sig), long path segments and the secret of a chat/webhook channel. */
function chatSecrets(channel: ChatChannelConfig): string[] {
  const url = channel.type === 'webhook' ? channel.url : channel.webhookUrl;
  const out = [url];
  try {
    const parsed = new URL(url);
    for (const value of parsed.searchParams.values()) out.push(value);
    // A token in the path (Feishu's hook id, a receiver's secret path): long segments only, not `robot` or `send`.
    out.push(...parsed.pathname.split('/').filter((segment) => segment.length >= 16));
  } catch {
    // validated already
  }
  if (channel.type === 'webhook') {
    out.push(channel.secret, channel.secret.slice('whsec_'.length), ...Object.values(channel.headers ?? {}));
  } else if ('secret' in channel && channel.secret) out.push(channel.secret);
  return out;
}

/**
 * The config as a document that loads back to the same config: the keys and
 * units the operator wrote (defaults filled in), secrets written as `${VAR}`
 * or `<key>File` kept as such, other secrets masked. No YAML anchors.
 */
export function printableConfig(config: Config): unknown {
  const origin = configOrigin(config);
  if (!origin) return maskedConfig(config);
  const build = (full: unknown, written: unknown, key: string | undefined): unknown => {
    if (Array.isArray(full)) return full.map((item, i) => build(item, Array.isArray(written) ? written[i] : undefined, undefined));
    if (full && typeof full === 'object') {
      const given = written && typeof written === 'object' && !Array.isArray(written) ? (written as Record<string, unknown>) : {};
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(full)) {
        if (SECRET_KEYS.has(k) && typeof given[`${k}File`] === 'string') out[`${k}File`] = given[`${k}File`];
        else out[k] = build(v, given[k], k);
      }
      return out;
    }
    if (key !== undefined && SECRET_KEYS.has(key) && typeof full === 'string') {
      return typeof written === 'string' && /^\$\{[^}]+\}$/.test(written) ? written : key.endsWith('Url') || key === 'url' ? maskUrl(full) : '***';
    }
    // Scalars the operator wrote keep their spelling ("5m", not 300000); variables show their value.
    return written !== undefined && typeof written !== 'object' && !(typeof written === 'string' && written.includes('${')) ? written : full;
  };
  return build(origin.withDefaults, origin.written, undefined);
}
