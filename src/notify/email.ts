/**
 * The email channel: nodemailer's pooled SMTP transport. STARTTLS is used
 * whenever the server offers it (nodemailer's default unless `ignoreTLS`);
 * `requireTLS` refuses to send without it. Certificate checks are relaxed
 * only for loopback hosts, where tests and the demo run a plain local server.
 */
import nodemailer from 'nodemailer';
import { type EmailChannelConfig, isLoopbackHost } from '../config.js';
import { PERMANENT, RETRYABLE } from '../errors.js';
import { scrubSecrets } from '../secrets.js';
import { oneLine, truncate } from '../text/escape.js';
import { type Channel, DeliveryError } from './channel.js';
import { type EmailMessage, renderEmail, renderEmailWatchdog } from './email-render.js';
import type { Notification, WatchdogNotice } from './event.js';

/** Connection-level failures worth another try. */
const RETRYABLE_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'ECONNREFUSED',
  'ECONNRESET',
  'EDNS',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

/** Resolves `smtpUrl` or host/port/secure/auth into one shape. */
export function smtpTarget(config: EmailChannelConfig): SmtpTarget {
  if (config.smtpUrl) {
    const url = new URL(config.smtpUrl);
    const secure = url.protocol === 'smtps:';
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      ...(user ? { auth: { user, pass } } : {}),
    };
  }
  const secure = config.secure ?? false;
  return {
    host: config.host ?? '127.0.0.1',
    port: config.port ?? (secure ? 465 : 587),
    secure,
    ...(config.auth ? { auth: config.auth } : {}),
  };
}

interface SmtpErrorLike {
  readonly code?: string;
  /** nodemailer: which timeout fired (`SOCKET_TIMEOUT` = mid-session, e.g. waiting for the answer to DATA). */
  readonly timeoutType?: string;
  readonly responseCode?: number;
  readonly response?: string;
  readonly command?: string;
  readonly message?: string;
}

/** Maps a nodemailer error to a typed error; the server's reply is summarised, secrets scrubbed. */
export function classifySmtpError(channel: string, error: unknown, secrets: readonly string[] = []): DeliveryError {
  const e = (error ?? {}) as SmtpErrorLike;
  const where = `(channel "${channel}")`;
  const reply = e.response ? truncate(scrubSecrets(oneLine(e.response), secrets), 200) : undefined;
  const code = e.responseCode;
  if (code !== undefined && code >= 400 && code < 500) {
    return new DeliveryError(`SMTP server answered ${reply ?? code}: temporary failure, will retry ${where}`, 'smtp_temporary', RETRYABLE, channel);
  }
  if (code !== undefined && code >= 500) {
    const what = e.code === 'EAUTH' ? 'authentication failed' : e.code === 'EENVELOPE' ? 'a recipient or the sender was refused' : 'message refused';
    return new DeliveryError(`SMTP server answered ${reply ?? code}: ${what} ${where}`, 'smtp_permanent', PERMANENT, channel);
  }
  // The message may have been sent and the server went quiet (or hung up) before confirming it.
  if ((e.code === 'ETIMEDOUT' && (e.timeoutType === undefined || e.timeoutType === 'SOCKET_TIMEOUT')) || e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return new DeliveryError(
      `SMTP server did not confirm the message (${e.code}): it may have been accepted; will retry, which may send it twice ${where}`,
      'smtp_outcome_unknown',
      RETRYABLE,
      channel,
      { outcomeUnknown: true },
    );
  }
  if (e.code && RETRYABLE_CODES.has(e.code)) {
    return new DeliveryError(`SMTP server unreachable (${e.code}), will retry ${where}`, 'smtp_network', RETRYABLE, channel);
  }
  if (e.code === 'EAUTH') {
    return new DeliveryError(`SMTP authentication failed ${where}`, 'smtp_auth', PERMANENT, channel);
  }
  if (e.code === 'ETLS') {
    return new DeliveryError(`SMTP TLS negotiation failed (requireTLS set but no STARTTLS, or a bad certificate) ${where}`, 'smtp_tls', RETRYABLE, channel);
  }
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') {
    return new DeliveryError(`SMTP refused the message (${e.code}) ${where}`, 'smtp_message', PERMANENT, channel);
  }
  const detail = e.message ? truncate(scrubSecrets(oneLine(e.message), secrets), 200) : 'unknown error';
  return new DeliveryError(`SMTP delivery failed: ${detail}, will retry ${where}`, 'smtp_error', RETRYABLE, channel);
}

export function createEmailChannel(config: EmailChannelConfig): Channel<EmailMessage> {
  const target = smtpTarget(config);
  const secrets = [target.auth?.pass, config.smtpUrl].filter((s): s is string => !!s);
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 2,
    host: target.host,
    port: target.port,
    secure: target.secure,
    requireTLS: config.requireTLS ?? false,
    ...(target.auth ? { auth: { user: target.auth.user, pass: target.auth.pass } } : {}),
    connectionTimeout: config.timeout,
    greetingTimeout: config.timeout,
    socketTimeout: config.timeout,
    // Self-signed certificates are accepted only on loopback (local test/demo servers).
    ...(isLoopbackHost(target.host) ? { tls: { rejectUnauthorized: false } } : {}),
    // nodemailer must not log (it would print envelopes and, at debug level, AUTH).
    logger: false,
    debug: false,
  });
  let closed = false;
  return {
    kind: 'email',
    name: config.name,
    render(notifications: readonly Notification[]): EmailMessage[] {
      return renderEmail(notifications, { timezone: config.timezone, locale: config.locale });
    },
    renderWatchdog(notice: WatchdogNotice): EmailMessage[] {
      return [renderEmailWatchdog(notice, { timezone: config.timezone, locale: config.locale })];
    },
    async send(message: EmailMessage): Promise<void> {
      try {
        await transport.sendMail({
          from: config.from,
          to: [...config.to],
          ...(config.cc.length ? { cc: [...config.cc] } : {}),
          subject: message.subject,
          text: message.text,
          html: message.html,
          // Pre-signed links must not be rewritten or tracked by intermediaries that honour this.
          // X-Dbswatch-Notification-Ids: which notifications this email delivers (one, or a digest's), machine-readable.
          headers: {
            'X-Auto-Response-Suppress': 'All',
            'Auto-Submitted': 'auto-generated',
            'X-Dbswatch-Notification-Ids': message.ids.join(', '),
          },
        });
      } catch (error) {
        throw classifySmtpError(config.name, error, secrets);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}
