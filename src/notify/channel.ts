/**
 * The narrow interface every delivery channel implements, and the typed
 * error channels throw. A channel renders (pure, via its renderer file) and
 * sends; the notify worker decides retries from `DeliveryError.retry` alone.
 */
import type { ChannelKind } from '../config.js';
import { DbswatchError, type RetryPolicy } from '../errors.js';
import type { Notification, WatchdogNotice } from './event.js';

/** One message ready to send, and the notification ids it delivers. */
export interface RenderedMessage {
  /** Notification ids this message carries; marked delivered once it is sent. */
  readonly ids: readonly string[];
}

export interface Channel<M extends RenderedMessage = RenderedMessage> {
  readonly kind: ChannelKind;
  /** Channel name from config (never its secret). */
  readonly name: string;
  /**
   * Renders notifications into messages: one for a single notification,
   * one or a few for a digest (split only to fit the channel's limits).
   */
  render(notifications: readonly Notification[]): readonly M[];
  /** Renders a watchdog event (title + lines from `watchdogText` in src/notify/i18n.ts) in the channel's locale. */
  renderWatchdog(notice: WatchdogNotice): readonly M[];
  /** Sends one rendered message; throws `DeliveryError`. */
  send(message: M): Promise<void>;
  /** Releases connections (SMTP pool). Idempotent. */
  close(): Promise<void>;
}

/**
 * A failed delivery. `message` is written for an operator and names the
 * channel, never its webhook URL or password.
 */
export class DeliveryError extends DbswatchError {
  constructor(
    message: string,
    code: string,
    retry: RetryPolicy,
    readonly channel: string,
    options?: { cause?: unknown; outcomeUnknown?: boolean },
  ) {
    super(message, code, retry, options);
  }
}
