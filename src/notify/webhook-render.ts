/**
 * The generic webhook's event body (pure): a versioned JSON document per
 * notification (`download.finished`, `download.failed`,
 * `download.progress`) or one `download.digest` carrying several. Field by
 * field in docs/webhook.md; JSON Schema in docs/webhook-event.schema.json
 * (a unit test checks rendered events against it). JSON needs no markup
 * escaping; links are included only when they are http(s) URLs.
 */
import { createHash } from 'node:crypto';
import { assertNever } from '../errors.js';
import { safeHttpUrl } from '../text/escape.js';
import type { RenderedMessage } from './channel.js';
import type { Notification } from './event.js';
import { digestSummary } from './slack-render.js';

/** Version of the event format; bumped only for incompatible changes (new fields are not). */
export const WEBHOOK_EVENT_VERSION = 1;
/** Events per digest request (a receiver's body-size limit, not a platform's). */
export const WEBHOOK_DIGEST_MAX_EVENTS = 100;

/** The `type` of a single event. */
export type WebhookEventType = 'download.finished' | 'download.failed' | 'download.progress' | 'download.expired' | 'download.expiring';

/** `data.task` of an event: the task's fields, only those known (docs/webhook.md). */
export interface WebhookTask {
  readonly taskId: string;
  readonly name?: string;
  readonly status: string;
  readonly previousStatus?: string;
  readonly backupSetId?: string;
  readonly dbType?: string;
  readonly jobType?: string;
  readonly dataFormat?: string;
  readonly dataSize?: number;
  readonly downloadWay?: string;
  readonly targetType?: string;
  readonly downloadDir?: string;
  readonly gatewayId?: number;
  readonly createdAt?: string;
  readonly finishedAt?: string;
  readonly errorMessage?: string;
  readonly links?: { readonly internet?: string; readonly intranet?: string };
}

/** One event (a single notification). */
export interface WebhookEvent {
  readonly version: 1;
  /** The notification id: also the `webhook-id` header; receivers dedupe on it. */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When dbswatch noticed the change (ISO 8601, UTC). */
  readonly timestamp: string;
  readonly data: { readonly plan: { readonly id: string; readonly name: string }; readonly task: WebhookTask; readonly seq: number };
}

/** A digest: several events in one request. */
export interface WebhookDigestEvent {
  readonly version: 1;
  /** `digest.` + a hash of the notification ids it carries (stable across retries). */
  readonly id: string;
  readonly type: 'download.digest';
  /** The latest `timestamp` of its events. */
  readonly timestamp: string;
  readonly data: { readonly summary: string; readonly count: number; readonly events: readonly WebhookEvent[] };
}

/** The signed request body and its `webhook-id`, plus the notification ids it delivers. */
export interface WebhookMessage extends RenderedMessage {
  /** `webhook-id` header value. */
  readonly webhookId: string;
  /** The exact JSON text that is signed and sent. */
  readonly body: string;
}

function eventType(n: Notification): WebhookEventType {
  switch (n.event) {
    case 'finished':
      return 'download.finished';
    case 'failed':
      return 'download.failed';
    case 'progress':
      return 'download.progress';
    case 'expired':
      return 'download.expired';
    case 'expiring':
      return 'download.expiring';
    default:
      return assertNever(n.event, 'event');
  }
}

const iso = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined);

/** Copies only the defined fields (the schema has no nulls). */
function defined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export function webhookEvent(n: Notification): WebhookEvent {
  const t = n.task;
  const internet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.internetUrl);
  const intranet = t.downloadWay === 'auto' ? undefined : safeHttpUrl(t.intranetUrl);
  const links = internet || intranet ? defined({ internet, intranet }) : undefined;
  const task: WebhookTask = {
    taskId: t.taskId,
    status: t.status,
    ...defined({
      name: t.name,
      previousStatus: n.previousStatus,
      backupSetId: t.backupSetId,
      dbType: t.dbType,
      jobType: t.jobType,
      dataFormat: t.dataFormat,
      dataSize: t.dataSize,
      downloadWay: t.downloadWay,
      targetType: t.targetType,
      downloadDir: t.downloadDir,
      gatewayId: t.gatewayId,
      createdAt: iso(t.createdAt),
      finishedAt: iso(t.finishedAt),
      errorMessage: n.event === 'failed' ? (t.errorMessage ?? 'DBS gave no error message') : t.errorMessage,
      links,
    }),
  };
  return {
    version: WEBHOOK_EVENT_VERSION,
    id: n.id,
    type: eventType(n),
    timestamp: iso(n.detectedAt) ?? new Date(0).toISOString(),
    data: { plan: { id: n.plan.id, name: n.plan.name }, task, seq: n.seq },
  };
}

export function digestId(ids: readonly string[]): string {
  return `digest.${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
}

export function webhookDigestEvent(ns: readonly Notification[]): WebhookDigestEvent {
  const events = ns.map(webhookEvent);
  const latest = Math.max(...ns.map((n) => n.detectedAt));
  return {
    version: WEBHOOK_EVENT_VERSION,
    id: digestId(ns.map((n) => n.id)),
    type: 'download.digest',
    timestamp: iso(latest) ?? new Date(0).toISOString(),
    data: { summary: digestSummary(ns), count: events.length, events },
  };
}

export function renderWebhook(ns: readonly Notification[]): WebhookMessage[] {
  if (ns.length === 0) return [];
  if (ns.length === 1) {
    const event = webhookEvent(ns[0] as Notification);
    return [{ ids: [event.id], webhookId: event.id, body: JSON.stringify(event) }];
  }
  const out: WebhookMessage[] = [];
  for (let i = 0; i < ns.length; i += WEBHOOK_DIGEST_MAX_EVENTS) {
    const chunk = ns.slice(i, i + WEBHOOK_DIGEST_MAX_EVENTS);
    const event = webhookDigestEvent(chunk);
    out.push({ ids: chunk.map((n) => n.id), webhookId: event.id, body: JSON.stringify(event) });
  }
  return out;
}
