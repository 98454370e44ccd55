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
import type { z } from 'zod';
import { type AlertingGate, openAlertingGate } from '../alerting/gate.js';
import type { WatchdogRunner } from '../alerting/watchdog-runner.js';
import type { ChannelConfig, Config } from '../config.js';
import type { DbsApi } from '../dbs/client.js';
import { linkExpiresAt } from '../dbs/link-expiry.js';
import { assertNever, DbswatchError, isOutcomeUnknown, rateLimited, retryPolicyOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { notificationsTotal } from '../metrics.js';
import type { RenderedMessage } from '../notify/channel.js';
import { openDeliveryClaims } from '../notify/delivery-guard.js';
import type { Notification } from '../notify/event.js';
import { channelRateLimits, rateLimitKey } from '../notify/rate-limits.js';
import type { ChannelPool } from '../notify/registry.js';
import { QUEUE_NAMES } from '../queues.js';
import { createRedisRateLimiter, type RequestGate } from '../rate-limit.js';
import { stripUrlQueries } from '../secrets.js';
import { sourceKindOf } from '../tracking/source.js';
import { jitteredBackoff } from './backoff.js';
import { type NotifyJobData, notifyJobDataSchema } from './payloads.js';

// ---------------------------------------------------------------------------
// Payload validation: a job written by another version (or by hand) must fail
// clearly, not half-render.

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
  readonly dbs?: LinkSource;
  /** Told about permanent delivery failures and successes (`notifications-failing`). Default: none. */
  readonly watchdog?: WatchdogRunner;
  /** Runs on the claimed notifications right before rendering (instance links are minted here). Default: none. */
  readonly beforeRender?: (notifications: readonly Notification[], log: Logger) => Promise<Notification[]>;
}

/** Where fresh links come from: one DBS client, or one per account (`plan.account`, issue 13). */
export type LinkSource = Pick<DbsApi, 'describeDownloadTaskPage'> | ((account: string | undefined) => Pick<DbsApi, 'describeDownloadTaskPage'>);

export type NotifyResult =
  | { readonly result: 'sent'; readonly sent: number; readonly duplicate: number; readonly messages: number }
  | { readonly result: 'duplicate'; readonly duplicate: number }
  | { readonly result: 'already-delivered' }
  /** Every notification was held back by a silence or a resolved reminder. */
  | { readonly result: 'silenced'; readonly silenced: number; readonly skipped: number };

/** When another job holds a claim, look again after this long (capped by the claim TTL). */
const IN_FLIGHT_RECHECK_MS = 2_000;

function claimTtl(channel: ChannelConfig): number {
  return Math.max(5_000, channel.timeout * 3);
}

export function createNotifyProcessor(deps: NotifyDeps) {
  const gates = new Map<string, RequestGate>();
  // One Redis limiter per window of the platform's rate (src/notify/rate-limits.ts), shared by every process.
  // Slack: grants are spaced by the window; the send follows a claim round trip of varying length, so a
  // 10% margin keeps messages ≥ 1 s apart where Slack counts them (measured: bench/BENCHMARKS.md).
  const gateFor = (channel: ChannelConfig): RequestGate | undefined => {
    const windows = channelRateLimits(channel).map((window) => {
      const key = rateLimitKey(deps.prefix, channel, window);
      let gate = gates.get(key);
      if (!gate) {
        gate = createRedisRateLimiter(deps.redis, { key, limit: window.limit, windowMs: window.windowMs });
        gates.set(key, gate);
      }
      return gate;
    });
    if (windows.length === 0) return undefined;
    return {
      acquire: async () => {
        for (const gate of windows) await gate.acquire();
      },
    };
  };

  return async function processNotifyJob(job: Job<NotifyJobData>, token?: string): Promise<NotifyResult> {
    const parsed = notifyJobDataSchema.safeParse(job.data);
    const channelName = parsed.success ? parsed.data.channel : undefined;
    const log = deps.log.child({ jobId: job.id, channel: channelName });
    if (!parsed.success) {
      const message = `malformed notify job payload (${describeIssues(parsed.error)})`;
      log.error({ reason: message }, 'notify job dropped: malformed payload');
      notificationsTotal.inc({ channel_type: 'unknown', channel: 'unknown', result: 'failed' });
      await stripLinks(job, log);
      throw new UnrecoverableError(message);
    }
    const data = parsed.data as NotifyJobData;
    if (data.delivered || (data.notifications.length === 0 && !data.watchdog)) return { result: 'already-delivered' };

    const config = deps.config();
    const channelConfig = config.channels[data.channel];
    const channel = channelConfig ? deps.channels.get(data.channel) : undefined;
    if (!channelConfig || !channel) {
      const message = `channel "${data.channel}" is no longer configured`;
      log.error({ reason: message }, 'notify job failed permanently');
      notificationsTotal.inc({ channel_type: 'unknown', channel: data.channel, result: 'failed' });
      await stripLinks(job, log);
      throw new UnrecoverableError(message);
    }
    const channelType = channel.kind;
    const labels = { channel_type: channelType, channel: channel.name };
    // Silences and reminder resolution are decided here, at send time, so a silence added from the CLI
    // (or an ack) applies to jobs already queued, without a reload.
    const alerting: AlertingGate = openAlertingGate({ redis: deps.redis, prefix: deps.prefix, config });
    const screened = await alerting.screen(data, Date.now());
    if (screened.silenced.length || screened.skipped.length) {
      notificationsTotal.inc({ ...labels, result: 'silenced' }, screened.silenced.length);
      notificationsTotal.inc({ ...labels, result: 'reminder_skipped' }, screened.skipped.length);
      log.info(
        { silenced: screened.silenced.map((r) => r.notificationId), skipped: screened.skipped },
        'notifications held back (silence or resolved reminder)',
      );
    }
    if (screened.notifications.length === 0 && !screened.watchdog) {
      if (screened.deferUntil !== undefined) return deferJob(job, token, data, screened, log);
      await job.updateData({ v: 1, channel: data.channel, notifications: [], delivered: { at: Date.now(), ids: [] } });
      return { result: 'silenced', silenced: screened.silenced.length, skipped: screened.skipped.length };
    }
    if (screened.silenced.length || screened.skipped.length) {
      // A retry of this job must not count (or record) them again.
      await job.updateData({ ...data, notifications: [...screened.notifications, ...screened.deferred] });
    }
    const notifications = screened.notifications;
    const watchdogNotice = screened.watchdog;
    const claims = openDeliveryClaims(deps.redis, {
      prefix: deps.prefix,
      claimTtlMs: claimTtl(channelConfig),
      keepDeliveredMs: config.notify.keepDelivered,
      keepDeliveredCount: config.notify.keepDeliveredCount,
    });

    const pending = new Set<string>();
    // The ids of the message being sent: if its outcome is unknown their claims are kept (see below).
    let sending: readonly string[] = [];
    let sent = 0;
    let messages = 0;
    let duplicate = 0;
    try {
      const claim = await claims.claim(watchdogNotice ? [watchdogNotice.id] : notifications.map((n) => n.id));
      duplicate = claim.delivered.length;
      for (const id of claim.claimed) pending.add(id);
      const claimed = new Set(claim.claimed);
      let toSend = notifications.filter((n) => claimed.has(n.id));
      // A stripped job re-reads every link; any other re-reads only links sent long after detection or
      // close to expiry (issue 13) — and a link already dead at send time is dropped with a note.
      toSend = await restoreLinks(toSend, deps.dbs, log, { onlyStale: !data.urlsRemoved });
      if (deps.beforeRender && toSend.length) toSend = await deps.beforeRender(toSend, log);
      const rendered: readonly RenderedMessage[] = watchdogNotice
        ? claimed.has(watchdogNotice.id)
          ? channel.renderWatchdog(watchdogNotice)
          : []
        : toSend.length
          ? channel.render(toSend)
          : [];
      const gate = gateFor(channelConfig);
      for (const message of rendered) {
        if (gate) await gate.acquire();
        // The rate-limit wait may have been long: make sure our claims are still ours.
        if (!(await claims.extend(message.ids))) {
          throw new DbswatchError('delivery claim expired before sending; retrying', 'claim_lost', rateLimited(IN_FLIGHT_RECHECK_MS));
        }
        sending = message.ids;
        await channel.send(message);
        sending = [];
        await claims.markDelivered(message.ids);
        for (const id of message.ids) pending.delete(id);
        sent += message.ids.length;
        messages += 1;
        notificationsTotal.inc({ ...labels, result: 'sent' });
      }
      if (duplicate > 0) notificationsTotal.inc({ ...labels, result: 'duplicate' }, duplicate);
      if (claim.inFlight.length > 0) {
        // Another job is sending some of these right now; come back and see whether it succeeded.
        throw new DbswatchError(
          `${claim.inFlight.length} notification(s) are being delivered by another job`,
          'in_flight',
          rateLimited(Math.min(IN_FLIGHT_RECHECK_MS, claimTtl(channelConfig))),
        );
      }
    } catch (error) {
      // Sent but unconfirmed (a timeout after the request went out): the provider may have delivered it.
      // Its claims are kept until they expire (3 × the channel timeout), so no attempt, digest or other job
      // sends it again while the provider may still be working on it; then a retry sends it again —
      // at-least-once, counted as `outcome_unknown`. Everything not yet sent is released for the retry.
      const keep = isOutcomeUnknown(error) ? new Set(sending) : new Set<string>();
      if (keep.size > 0) notificationsTotal.inc({ ...labels, result: 'outcome_unknown' }, keep.size);
      const release = [...pending].filter((id) => !keep.has(id));
      if (release.length > 0) await claims.release(release).catch(() => {});
      return handleFailure(error, { job, token, log, labels, sentSoFar: sent, ...(deps.watchdog ? { watchdog: deps.watchdog } : {}) });
    }
    if (sent > 0) await deps.watchdog?.observeChannel(channel.name, { kind: 'success', at: Date.now() });
    // Replay-silenced notifications wait in this job until their silence ends (what was sent is marked delivered).
    if (screened.deferUntil !== undefined) return deferJob(job, token, data, screened, log);

    const ids = watchdogNotice ? [watchdogNotice.id] : notifications.map((n) => n.id);
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
  ctx: {
    job: Job<NotifyJobData>;
    token: string | undefined;
    log: Logger;
    labels: { channel_type: string; channel: string };
    sentSoFar: number;
    watchdog?: WatchdogRunner;
  },
): Promise<never> {
  const { job, token, log, labels } = ctx;
  const gaveUp = async (reason: string) => {
    await ctx.watchdog?.observeChannel(labels.channel, { kind: 'failure', at: Date.now(), error: reason, permanent: true });
  };
  const policy = retryPolicyOf(error);
  const reason = error instanceof DbswatchError ? error.message : stripUrlQueries(error instanceof Error ? error.message : String(error));
  switch (policy.kind) {
    case 'permanent':
      log.error({ reason, sentSoFar: ctx.sentSoFar }, 'notification failed permanently');
      notificationsTotal.inc({ ...labels, result: 'failed' });
      await gaveUp(reason);
      await stripLinks(job, log);
      throw new UnrecoverableError(reason);
    case 'rate-limited':
      log.warn({ reason, delayMs: policy.delayMs }, 'delivery delayed');
      notificationsTotal.inc({ ...labels, result: 'rate_limited' });
      // Waits without burning an attempt (BullMQ's moveToDelayed skips the attempt count).
      await job.moveToDelayed(Date.now() + policy.delayMs, token);
      throw new DelayedError();
    case 'retryable': {
      const attempts = job.opts.attempts ?? 1;
      const last = job.attemptsMade + 1 >= attempts;
      if (last) {
        log.error({ reason, attempts }, 'notification failed after its last attempt');
        notificationsTotal.inc({ ...labels, result: 'failed' });
        await gaveUp(reason);
        await stripLinks(job, log);
      } else {
        log.warn({ reason, attempt: job.attemptsMade + 1, attempts }, 'delivery failed; will retry');
        notificationsTotal.inc({ ...labels, result: 'retry' });
      }
      // Rethrow a clean error: library errors may carry URLs in fields BullMQ would store.
      throw error instanceof DbswatchError ? error : new Error(reason);
    }
    default:
      return assertNever(policy, 'retry policy');
  }
}

/** Keeps only the replay-silenced notifications in the job and puts it back until the silence ends. */
async function deferJob(
  job: Job<NotifyJobData>,
  token: string | undefined,
  data: NotifyJobData,
  screened: { deferred: readonly Notification[]; deferUntil?: number },
  log: Logger,
): Promise<never> {
  const until = screened.deferUntil ?? Date.now();
  await job.updateData({ ...data, notifications: [...screened.deferred] });
  log.info({ until: new Date(until).toISOString(), notifications: screened.deferred.length }, 'silenced with replay: delivery waits for the silence to end');
  await job.moveToDelayed(until, token);
  throw new DelayedError();
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
  dbs: LinkSource | undefined,
  log: Logger,
  options: RestoreLinksOptions = {},
): Promise<Notification[]> {
  const now = options.now ?? Date.now();
  // Instance (2021) tasks have no links in the list: theirs are minted at send time (beforeRender).
  const candidates = notifications.filter((n) => n.event === 'finished' && n.task.downloadWay !== 'auto' && sourceKindOf(n.plan.id) === 'plan');
  const wanted = [...new Set((options.onlyStale ? candidates.filter((n) => linksStale(n, now)) : candidates).map((n) => n.task.taskId))];
  const fresh = new Map<string, { internetUrl?: string; intranetUrl?: string }>();
  if (!dbs) {
    if (wanted.length && !options.onlyStale)
      log.warn({ tasks: wanted.length }, 'retried notification had its links removed and no DBS client is available: sending without links');
    return dropExpiredLinks(notifications, now);
  }
  const accountOf = new Map(candidates.map((n) => [n.task.taskId, n.plan.account]));
  for (const taskId of wanted) {
    let page: Awaited<ReturnType<DbsApi['describeDownloadTaskPage']>>;
    try {
      const api = typeof dbs === 'function' ? dbs(accountOf.get(taskId)) : dbs;
      page = await api.describeDownloadTaskPage({ taskId });
    } catch (error) {
      // Stale-but-present links: a DBS hiccup must not hold the message back (dead links are dropped below).
      if (!options.onlyStale) throw error;
      log.warn({ taskId, code: error instanceof DbswatchError ? error.code : undefined }, 'could not re-read a task for fresh links; sending the links it had');
      continue;
    }
    const task = page.items.find((t) => t.taskId === taskId);
    if (!task) {
      log.warn({ taskId }, 'DBS no longer lists this task: the notification goes out without fresh links');
      continue;
    }
    fresh.set(taskId, {
      ...(task.internetUrl ? { internetUrl: task.internetUrl } : {}),
      ...(task.intranetUrl ? { intranetUrl: task.intranetUrl } : {}),
    });
  }
  const merged = notifications.map((n) => {
    const links = fresh.get(n.task.taskId);
    return links && n.event === 'finished' ? { ...n, task: { ...n.task, ...links } } : n;
  });
  return dropExpiredLinks(merged, now);
}

/** Options of `restoreLinks`. */
export interface RestoreLinksOptions {
  /** Re-read only tasks whose links are stale (see `linksStale`); a failed re-read then keeps the old links. Default: false (re-read all). */
  readonly onlyStale?: boolean;
  /** Send time, epoch ms. Default: Date.now(). */
  readonly now?: number;
}

/** A link with less lifetime left than this is re-read before sending. Default: 1 h. */
export const LINK_MIN_VALIDITY_MS = 3_600_000;
/** A notification sent this long after detection re-reads links whose expiry it cannot tell. Default: 15 min. */
export const LINK_STALE_AFTER_MS = 15 * 60_000;

/** Whether a finished manual notification should re-read its task before sending (pure). */
export function linksStale(n: Notification, now: number): boolean {
  const urls = [n.task.internetUrl, n.task.intranetUrl].filter((u): u is string => Boolean(u));
  const expiries = urls.map(linkExpiresAt).filter((t): t is number => t !== undefined);
  if (expiries.length > 0) return Math.min(...expiries) - now < LINK_MIN_VALIDITY_MS;
  // No links yet, or links that do not say when they expire: re-read when sent long after detection.
  return now - n.detectedAt > LINK_STALE_AFTER_MS;
}

/** Drops links already expired at `now`, marking the notification so the message says so (pure). */
export function dropExpiredLinks(notifications: readonly Notification[], now: number): Notification[] {
  return notifications.map((n) => {
    if (n.event !== 'finished') return n;
    const { internetUrl, intranetUrl } = n.task;
    const dead = (url: string | undefined) => {
      const at = linkExpiresAt(url);
      return at !== undefined && at <= now ? at : undefined;
    };
    const internetDead = dead(internetUrl);
    const intranetDead = dead(intranetUrl);
    if (internetDead === undefined && intranetDead === undefined) return n;
    const task = { ...n.task };
    if (internetDead !== undefined) delete (task as { internetUrl?: string }).internetUrl;
    if (intranetDead !== undefined) delete (task as { intranetUrl?: string }).intranetUrl;
    const expiredAt = Math.min(...[internetDead, intranetDead].filter((t): t is number => t !== undefined));
    return task.internetUrl || task.intranetUrl ? { ...n, task } : { ...n, task, linksExpiredAt: expiredAt };
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
    settings: { backoffStrategy: jitteredBackoff(() => deps.config().notify.maxBackoff) },
  });
  worker.on('error', (error) => deps.log.error({ err: error }, 'notify worker error'));
  return worker;
}
