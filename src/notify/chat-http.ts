/**
 * What the HTTP chat channels (DingTalk, Feishu, WeCom, Teams) and the
 * generic webhook share: one POST with a timeout, and the classification of
 * the answer — from the HTTP status *and* the platform's JSON error code —
 * into retryable / rate-limited / permanent, with each platform's codes as
 * data. Messages name the channel and the code, never the URL, the secret
 * or the platform's free text (which may quote either).
 */
import type { ChannelKind, ChatChannelConfig } from '../config.js';
import { PERMANENT, RETRYABLE, type RetryPolicy, rateLimited } from '../errors.js';
import type { Presentation } from '../text/format.js';
import { type Channel, DeliveryError, type RenderedMessage } from './channel.js';
import type { Notification, WatchdogNotice } from './event.js';
import { parseRetryAfter } from './slack.js';

/** What a platform's error code means. */
export type CodeRule =
  | { readonly kind: 'rate-limited'; readonly reason: string }
  | { readonly kind: 'retryable'; readonly reason: string }
  | { readonly kind: 'permanent'; readonly reason: string };

/** One platform as data: its codes, its pause when rate limited, and how to build (and sign) a request. */
export interface HttpPlatform<M extends RenderedMessage> {
  readonly kind: ChannelKind;
  /** `DingTalk`, `Feishu`, … for messages. */
  readonly label: string;
  /** The platform's error code in a JSON answer (`errcode`, `code`); undefined = judge by HTTP status only. */
  readonly codeOf?: (body: unknown) => number | undefined;
  /** Known codes; an unknown non-zero code is retryable (attempts are bounded). */
  readonly codes: Readonly<Record<number, CodeRule>>;
  /** HTTP statuses with a known meaning (4xx other than 408/425/429 default to permanent). */
  readonly statuses?: Readonly<Record<number, string>>;
  /** Wait after "rate limited" when the answer names no Retry-After. */
  readonly rateLimitWaitMs: number;
  /** The request for one message (signing happens here, at send time). */
  request(message: M, now: number): { readonly url: string; readonly headers?: Readonly<Record<string, string>>; readonly body: string };
}

/** The parts of an HTTP answer that classification reads (body cut to 4 kB). */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | null;
}

/** Maps one HTTP answer to undefined (delivered) or a typed error. Pure; exported for unit tests. */
export function classifyHttpAnswer<M extends RenderedMessage>(
  platform: Pick<HttpPlatform<M>, 'label' | 'kind' | 'codeOf' | 'codes' | 'statuses' | 'rateLimitWaitMs'>,
  channel: string,
  answer: HttpAnswer,
): DeliveryError | undefined {
  const where = `(channel "${channel}")`;
  const { label, kind } = platform;
  const limited = (what: string, delayMs: number) =>
    new DeliveryError(
      `${label} answered ${what}: rate limited, retrying in ${Math.ceil(delayMs / 1000)}s ${where}`,
      `${kind}_rate_limited`,
      rateLimited(delayMs),
      channel,
    );
  const wait = parseRetryAfter(answer.retryAfter) ?? platform.rateLimitWaitMs;
  if (answer.status === 429) return limited('429', wait);
  if (answer.status >= 500 || answer.status === 408 || answer.status === 425) {
    return new DeliveryError(`${label} answered ${answer.status}: ${label} is having trouble, will retry ${where}`, `${kind}_server_error`, RETRYABLE, channel);
  }
  let code: number | undefined;
  if (platform.codeOf) {
    try {
      code = platform.codeOf(JSON.parse(answer.text) as unknown);
    } catch {
      code = undefined;
    }
  }
  if (code !== undefined && code !== 0) {
    const rule = platform.codes[code];
    const what = `${answer.status} with error code ${code}`;
    if (rule?.kind === 'rate-limited') return limited(`${what} (${rule.reason})`, wait);
    const policy: RetryPolicy = rule?.kind === 'permanent' ? PERMANENT : RETRYABLE;
    const reason = rule?.reason ?? `an error code dbswatch does not know, will retry`;
    return new DeliveryError(`${label} answered ${what}: ${reason} ${where}`, `${kind}_error_${code}`, policy, channel);
  }
  if (answer.status >= 200 && answer.status < 300) return undefined;
  const reason = platform.statuses?.[answer.status] ?? 'the webhook refused the message';
  return new DeliveryError(`${label} answered ${answer.status}: ${reason} ${where}`, `${kind}_http_${answer.status}`, PERMANENT, channel);
}

/** A network failure as a log-safe reason: only a code (fetch messages may quote the URL). */
export function networkReason(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; cause?: { code?: unknown; name?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError') return 'timed out';
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? `network error ${code}` : 'network error';
}

/**
 * A channel that POSTs each rendered message once (the queue retries) and
 * classifies the answer. `render` is the platform's pure renderer.
 */
export function createHttpChannel<M extends RenderedMessage>(
  config: ChatChannelConfig,
  platform: HttpPlatform<M>,
  render: (ns: readonly Notification[], presentation: Presentation) => M[],
  renderWatchdog: (notice: WatchdogNotice, presentation: Presentation) => M[],
): Channel<M> {
  // Every message in the channel's language and time zone (channel `locale`, `timezone`).
  const presentation: Presentation = { timezone: config.timezone, locale: config.locale };
  const rules = config.rateLimitBackoff !== undefined ? { ...platform, rateLimitWaitMs: config.rateLimitBackoff } : platform;
  return {
    kind: platform.kind,
    name: config.name,
    render: (ns) => render(ns, presentation),
    renderWatchdog: (notice) => renderWatchdog(notice, presentation),
    async send(message: M): Promise<void> {
      const request = platform.request(message, Date.now());
      let answer: HttpAnswer;
      try {
        const response = await fetch(request.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', ...request.headers },
          body: request.body,
          signal: AbortSignal.timeout(config.timeout),
          redirect: 'error',
        });
        // Bounded read: an answer is a few bytes of JSON; a proxy's HTML page must not fill memory.
        const text = (await response.text()).slice(0, 4096);
        answer = { status: response.status, text, retryAfter: response.headers.get('retry-after') };
      } catch (error) {
        throw new DeliveryError(
          `${platform.label} webhook unreachable: ${networkReason(error)}, will retry (channel "${config.name}")`,
          `${platform.kind}_network`,
          RETRYABLE,
          config.name,
        );
      }
      const failure = classifyHttpAnswer(rules, config.name, answer);
      if (failure) throw failure;
    },
    async close() {
      // Nothing pooled: fetch keeps its own keep-alive sockets.
    },
  };
}

/** `{errcode: n}` → n (DingTalk, WeCom). */
export const errcodeOf = (body: unknown): number | undefined => {
  const code = (body as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code : undefined;
};
