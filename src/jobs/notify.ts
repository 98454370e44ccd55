/**
 * The notify worker: delivers one job (one notification, or a digest) to
 * one channel. Steps: validate → resolve the channel from the current config
 * → claim (delivery guard) → render → per message: rate-limit, send, mark →
 * strip the payload. Retry policy comes from the typed error alone:
 * permanent → UnrecoverableError (failed set), rate-limited → delayed
 * without burning an attempt, retryable → rethrow (jittered backoff).
 */
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type ChannelConfig, type Config, EVENT_KINDS } from '../config.js';
import type { DbsApi } from '../dbs/client.js';
import { assertNever, backoffDelay, DbswatchError, rateLimited, retryPolicyOf } from '../errors.js';
import { type Logger, stripUrlQueries } from '../logger.js';
import { notificationsTotal } from '../metrics.js';
import type { Channel, RenderedMessage } from '../notify/channel.js';
import { openDeliveryClaims } from '../notify/delivery-guard.js';
import type { Notification, NotifyJobData } from '../notify/event.js';
import type { ChannelPool } from '../notify/registry.js';
import { JITTERED_BACKOFF, QUEUE_NAMES } from '../queues.js';
import { createRedisRateLimiter, type RequestGate } from '../rate-limit.js';
import { sourceKindOf } from '../tracking/source.js';

// ---------------------------------------------------------------------------
// Payload validation: a job written by another version (or by hand) must fail
// clearly, not half-render.

const taskSchema = z.object({
  taskId: z.string().min(1),
  planId: z.string(),
  status: z.string(),
  name: z.string().optional(),
  backupSetId: z.string().optional(),
  backupSetCode: z.string().optional(),
  dbType: z.string().optional(),
  jobType: z.string().optional(),
  dataFormat: z.string().optional(),
  dataSize: z.number().optional(),
  downloadWay: z.string().optional(),
  internetUrl: z.string().optional(),
  intranetUrl: z.string().optional(),
  targetType: z.string().optional(),
  downloadDir: z.string().optional(),
  gatewayId: z.number().optional(),
  createdAt: z.number().optional(),
  finishedAt: z.number().optional(),
  errorMessage: z.string().optional(),
  downloadStatus: z.string().optional(),
  region: z.string().optional(),
  targetPath: z.string().optional(),
  progress: z.string().optional(),
  resultExpiresAt: z.number().optional(),
});

const notificationSchema = z.object({
  id: z.string().min(1),
  event: z.enum(EVENT_KINDS),
  plan: z.object({ id: z.string(), name: z.string() }),
  task: taskSchema,
  previousStatus: z.string().optional(),
  seq: z.number(),
  detectedAt: z.number(),
});

export const notifyJobDataSchema = z.object({
  v: z.literal(1),
  channel: z.string().min(1),
  notifications: z.array(notificationSchema),
  delivered: z.object({ at: z.number(), ids: z.array(z.string()) }).optional(),
  urlsRemoved: z.literal(true).optional(),
});

/** Describes zod issues by path and problem only: values (signed URLs) never reach a message. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}

// ---------------------------------------------------------------------------

export interface NotifyDeps {
  /** The current config (re-read per job so reloads apply). */
  readonly config: () => Config;
  /** Connection for the guard and the rate limiter (not the worker's blocking one). */
  readonly redis: Redis;
  /** Deployment prefix (BullMQ prefix). */
  readonly prefix: string;
  readonly channels: ChannelPool;
  readonly log: Logger;
  /**
   * Re-reads a task by id when a retried job had its links stripped (see `stripLinks`). Default: none —
   * such a job is then sent without links.
   */
  readonly dbs?: Pick<DbsApi, 'describeDownloadTaskPage'>;
  /** Runs on the claimed notifications right before rendering (instance links are minted here). Default: none. */
  readonly beforeRender?: (notifications: readonly Notification[], log: Logger) => Promise<Notification[]>;
}

export type NotifyResult =
  | { readonly result: 'sent'; readonly sent: number; readonly duplicate: number; readonly messages: number }
  | { readonly result: 'duplicate'; readonly duplicate: number }
  | { readonly result: 'already-delivered' };

/** Slack allows about one message per second per webhook. */
const SLACK_MESSAGES_PER_SECOND = 1;
/** When another job holds a claim, look again after this long (capped by the claim TTL). */
const IN_FLIGHT_RECHECK_MS = 2_000;

function claimTtl(channel: ChannelConfig): number {
  return Math.max(5_000, channel.timeout * 3);
}

export function createNotifyProcessor(deps: NotifyDeps) {
  const gates = new Map<string, RequestGate>();
  const gateFor = (channel: Channel): RequestGate | undefined => {
    if (channel.kind !== 'slack') return undefined;
    let gate = gates.get(channel.name);
    if (!gate) {
      // Keyed by channel name: one webhook per channel, shared by every process.
      gate = createRedisRateLimiter(deps.redis, {
        key: `${deps.prefix}:ratelimit:slack:${channel.name}`,
        limit: SLACK_MESSAGES_PER_SECOND,
        // Grants are spaced by the window; the send follows a claim round trip of varying length, so a
        // 10% margin keeps messages ≥ 1 s apart where Slack counts them (measured: bench/BENCHMARKS.md).
        windowMs: 1_100,
      });
      gates.set(channel.name, gate);
    }
    return gate;
  };

  return async function processNotifyJob(job: Job<NotifyJobData>, token?: string): Promise<NotifyResult> {
    const parsed = notifyJobDataSchema.safeParse(job.data);
    const channelName = parsed.success ? parsed.data.channel : undefined;
    const log = deps.log.child({ jobId: job.id, channel: channelName });
    if (!parsed.success) {
      const message = `malformed notify job payload (${describeIssues(parsed.error)})`;
      log.error({ reason: message }, 'notify job dropped: malformed payload');
      notificationsTotal.inc({ channel_type: 'unknown', result: 'failed' });
      await stripLinks(job, log);
      throw new UnrecoverableError(message);
    }
    const data = parsed.data;
    if (data.delivered || data.notifications.length === 0) return { result: 'already-delivered' };

    const config = deps.config();
    const channelConfig = config.channels[data.channel];
    const channel = channelConfig ? deps.channels.get(data.channel) : undefined;
    if (!channelConfig || !channel) {
      const message = `channel "${data.channel}" is no longer configured`;
      log.error({ reason: message }, 'notify job failed permanently');
      notificationsTotal.inc({ channel_type: 'unknown', result: 'failed' });
      await stripLinks(job, log);
      throw new UnrecoverableError(message);
    }
    const channelType = channel.kind;
    const notifications = data.notifications as readonly Notification[];
    const claims = openDeliveryClaims(deps.redis, {
      prefix: deps.prefix,
      claimTtlMs: claimTtl(channelConfig),
      keepDeliveredMs: config.notify.keepDelivered,
    });

    const pending = new Set<string>();
    let sent = 0;
    let messages = 0;
    let duplicate = 0;
    try {
      const claim = await claims.claim(notifications.map((n) => n.id));
      duplicate = claim.delivered.length;
      for (const id of claim.claimed) pending.add(id);
      const claimed = new Set(claim.claimed);
      let toSend = notifications.filter((n) => claimed.has(n.id));
      if (data.urlsRemoved) toSend = await restoreLinks(toSend, deps.dbs, log);
      if (deps.beforeRender && toSend.length) toSend = await deps.beforeRender(toSend, log);
      const rendered: readonly RenderedMessage[] = toSend.length ? channel.render(toSend) : [];
      const gate = gateFor(channel);
      for (const message of rendered) {
        if (gate) await gate.acquire();
        // The rate-limit wait may have been long: make sure our claims are still ours.
        if (!(await claims.extend(message.ids))) {
          throw new DbswatchError('delivery claim expired before sending; retrying', 'claim_lost', rateLimited(IN_FLIGHT_RECHECK_MS));
        }
        await channel.send(message);
        await claims.markDelivered(message.ids);
        for (const id of message.ids) pending.delete(id);
        sent += message.ids.length;
        messages += 1;
        notificationsTotal.inc({ channel_type: channelType, result: 'sent' });
      }
      if (duplicate > 0) notificationsTotal.inc({ channel_type: channelType, result: 'duplicate' }, duplicate);
      if (claim.inFlight.length > 0) {
        // Another job is sending some of these right now; come back and see whether it succeeded.
        throw new DbswatchError(
          `${claim.inFlight.length} notification(s) are being delivered by another job`,
          'in_flight',
          rateLimited(Math.min(IN_FLIGHT_RECHECK_MS, claimTtl(channelConfig))),
        );
      }
    } catch (error) {
      if (pending.size > 0) await claims.release([...pending]).catch(() => {});
      return handleFailure(error, { job, token, log, channelType, sentSoFar: sent });
    }

    const ids = notifications.map((n) => n.id);
    // Drop the payload (signed URLs) now; the completed job keeps its id for dedupe.
    await job.updateData({ v: 1, channel: data.channel, notifications: [], delivered: { at: Date.now(), ids } });
    if (sent === 0) {
      log.info({ duplicate }, 'already delivered by another job; nothing sent');
      return { result: 'duplicate', duplicate };
    }
    log.info({ sent, messages, duplicate }, 'notification delivered');
    return { result: 'sent', sent, duplicate, messages };
  };
}

async function handleFailure(
  error: unknown,
  ctx: { job: Job<NotifyJobData>; token: string | undefined; log: Logger; channelType: string; sentSoFar: number },
): Promise<never> {
  const { job, token, log, channelType } = ctx;
  const policy = retryPolicyOf(error);
  const reason = error instanceof DbswatchError ? error.message : stripUrlQueries(error instanceof Error ? error.message : String(error));
  switch (policy.kind) {
    case 'permanent':
      log.error({ reason, sentSoFar: ctx.sentSoFar }, 'notification failed permanently');
      notificationsTotal.inc({ channel_type: channelType, result: 'failed' });
      await stripLinks(job, log);
      throw new UnrecoverableError(reason);
    case 'rate-limited':
      log.warn({ reason, delayMs: policy.delayMs }, 'delivery delayed');
      notificationsTotal.inc({ channel_type: channelType, result: 'rate_limited' });
      // Waits without burning an attempt (BullMQ's moveToDelayed skips the attempt count).
      await job.moveToDelayed(Date.now() + policy.delayMs, token);
      throw new DelayedError();
    case 'retryable': {
      const attempts = job.opts.attempts ?? 1;
      const last = job.attemptsMade + 1 >= attempts;
      if (last) {
        log.error({ reason, attempts }, 'notification failed after its last attempt');
        notificationsTotal.inc({ channel_type: channelType, result: 'failed' });
        await stripLinks(job, log);
      } else {
        log.warn({ reason, attempt: job.attemptsMade + 1, attempts }, 'delivery failed; will retry');
        notificationsTotal.inc({ channel_type: channelType, result: 'retry' });
      }
      // Rethrow a clean error: library errors may carry URLs in fields BullMQ would store.
      throw error instanceof DbswatchError ? error : new Error(reason);
    }
    default:
      return assertNever(policy, 'retry policy');
  }
}

// ---------------------------------------------------------------------------
// Signed URLs in failed jobs. A permanently failed job stays in Redis (failed set) until an operator
// retries or removes it — for days, maybe. Its download URLs are bearer credentials to a database
// backup, and the design rule is "held in Redis no longer than it takes to deliver": so a job that
// gives up drops them, and a retry fetches the task again from DBS by id.

const URL_LIKE = /(https?:)?\/\/[^\s"'<>]+/gi;

/** Drops every download URL from a job's data and marks it `urlsRemoved`. Never throws (the job is failing anyway). */
export async function stripLinks(job: Job<NotifyJobData>, log: Logger): Promise<void> {
  const data = job.data as unknown;
  try {
    const parsed = notifyJobDataSchema.safeParse(data);
    if (parsed.success) {
      if (parsed.data.urlsRemoved || parsed.data.notifications.length === 0) return;
      const notifications = parsed.data.notifications.map((n) => {
        const { internetUrl: _internet, intranetUrl: _intranet, ...rest } = n.task;
        // API text (an ErrMessage, a name) can quote a signed URL too: keep the text, drop its query string.
        const task = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'string' ? stripUrlQueries(v) : v]));
        return { ...n, task: task as typeof rest };
      });
      await job.updateData({ ...parsed.data, notifications, urlsRemoved: true } as NotifyJobData);
      return;
    }
    // A malformed payload: keep its shape for whoever inspects it, with anything URL-like cut out.
    const scrub = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replace(URL_LIKE, '[url removed]')
        : Array.isArray(value)
          ? value.map(scrub)
          : value && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]))
            : value;
    await job.updateData(scrub(data) as NotifyJobData);
  } catch (error) {
    log.warn({ err: error }, 'could not drop the download links of a failed notification job');
  }
}

/**
 * For a retried job whose links were stripped: re-reads each finished manual task by id from DBS and
 * puts its current links back. A task DBS no longer lists is sent without links (the message still
 * names it; the links are in the DBS console). A DBS failure fails this attempt like a send failure.
 */
export async function restoreLinks(
  notifications: readonly Notification[],
  dbs: Pick<DbsApi, 'describeDownloadTaskPage'> | undefined,
  log: Logger,
): Promise<Notification[]> {
  const wanted = [
    ...new Set(
      notifications
        // Instance (2021) tasks have no links in the list: theirs are minted at send time (beforeRender).
        .filter((n) => n.event === 'finished' && n.task.downloadWay !== 'auto' && sourceKindOf(n.plan.id) === 'plan')
        .map((n) => n.task.taskId),
    ),
  ];
  const fresh = new Map<string, { internetUrl?: string; intranetUrl?: string }>();
  if (!dbs) {
    if (wanted.length) log.warn({ tasks: wanted.length }, 'retried notification had its links removed and no DBS client is available: sending without links');
    return [...notifications];
  }
  for (const taskId of wanted) {
    const page = await dbs.describeDownloadTaskPage({ taskId });
    const task = page.items.find((t) => t.taskId === taskId);
    if (!task) {
      log.warn({ taskId }, 'DBS no longer lists this task: the retried notification goes out without links');
      continue;
    }
    fresh.set(taskId, {
      ...(task.internetUrl ? { internetUrl: task.internetUrl } : {}),
      ...(task.intranetUrl ? { intranetUrl: task.intranetUrl } : {}),
    });
  }
  return notifications.map((n) => {
    const links = fresh.get(n.task.taskId);
    return links && n.event === 'finished' ? { ...n, task: { ...n.task, ...links } } : n;
  });
}

export interface NotifyWorkerDeps extends NotifyDeps {
  /** Blocking connection for the worker (`maxRetriesPerRequest: null`). */
  readonly connection: Redis;
  /** Default: config.notify.concurrency. */
  readonly concurrency?: number;
}

export function startNotifyWorker(deps: NotifyWorkerDeps): Worker<NotifyJobData, NotifyResult> {
  const processor = createNotifyProcessor(deps);
  const worker = new Worker<NotifyJobData, NotifyResult>(QUEUE_NAMES.notify, processor, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency ?? deps.config().notify.concurrency,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) => {
        const notify = deps.config().notify;
        if (type !== undefined && type !== JITTERED_BACKOFF) return notify.backoff;
        return backoffDelay(attemptsMade, notify.backoff, notify.maxBackoff);
      },
    },
  });
  worker.on('error', (error) => deps.log.error({ err: error }, 'notify worker error'));
  return worker;
}
