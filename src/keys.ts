/**
 * Every Redis key and BullMQ id dbswatch writes, in one place. BullMQ's own
 * queue keys live under `<prefix>:<queue>:…` (the same prefix), so one
 * `SCAN <prefix>:*` finds everything an installation owns. A Redis Cluster
 * deployment puts a hash tag in the prefix (`{dbswatch}`) so the Lua scripts
 * that touch several keys stay on one slot.
 */
import { idPart } from './ids.js';

/** The key names under one prefix (config `redis.prefix`). */
export interface RedisKeys {
  /** Hash: version, baseline flag, last poll/success/error and counts of one plan. */
  planMeta(planId: string): string;
  /** Hash: taskId → `seq|missed|status` of every tracked task of one plan. */
  planTasks(planId: string): string;
  /** Hash: taskId → finish time and status it was last announced in (once per task and terminal status). */
  planAnnounced(planId: string): string;
  /** Prefix of one commit's staging keys for a big plan (a random id is appended). */
  planStaging(planId: string, stageId: string): string;
  /** String with a TTL: a scheduled poll of this plan is running (the next one is skipped). */
  planPolling(planId: string): string;
  /** SCAN pattern matching every plan's meta key. */
  readonly planMetaPattern: string;
  /** The plan id of a key matched by planMetaPattern (undefined for any other key). */
  planIdOfMetaKey(key: string): string | undefined;
  /** String with a TTL: a permanent poll error of this plan was logged at error level within the hour. */
  planPermanentErrorLogged(planId: string): string;
  /** Hash: planId → name of the plans found by discovery. */
  readonly discoveredPlans: string;
  /** Hash: planId → account id of discovered plans outside the default account. */
  readonly discoveredPlanAccounts: string;
  /** Hash: configured plan id → the account that does not know it (the plan check at start and reload). */
  readonly unknownPlans: string;
  /** Stream: recent transitions for the status page (capped, no URLs). */
  readonly history: string;
  /** String with a TTL: this notification id was delivered. */
  deliveryDone(notificationId: string): string;
  /** Sorted set: delivered markers by time, for the count cap. */
  readonly deliveredIndex: string;
  /** String with a TTL: a worker holds the right to send this notification id. */
  deliveryClaim(notificationId: string): string;
  /** Hash: silence id → JSON of a runtime silence (`dbswatch silence add`). */
  readonly silences: string;
  /** List (newest first, capped): JSON records of silenced notifications. */
  readonly silenced: string;
  /** String with a TTL: a failed task someone acknowledged (`dbswatch ack`). */
  ack(taskId: string): string;
  /** String with a TTL: when a download of this backup set last finished (resolves reminders). */
  backupSetDone(planId: string, backupSetId: string): string;
  /** String (JSON): watchdog state of a plan or a channel. */
  watchdog(kind: 'plan' | 'channel', id: string): string;
  /** Hash: config reload outcome (`ok`, `at`), shared by every process for the status page. */
  readonly configReload: string;
  /** Sorted set: the global DBS request-rate window shared by every worker. */
  readonly dbsRequestWindow: string;
  /** Sorted set: the DBS request-rate window of a non-default account (DBS limits per account). */
  accountRequestWindow(accountId: string): string;
  /** Sorted set: the message-rate window of one Slack channel (keyed by channel name, as it always was). */
  webhookWindow(channelName: string): string;
  /** Sorted set: one rate window (`window`, e.g. `20per66000`) of one chat/webhook endpoint, keyed by a hash of its URL. */
  endpointWindow(channelType: string, urlHash: string, window: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    planMeta: (planId) => `${prefix}:plan:${planId}:meta`,
    planTasks: (planId) => `${prefix}:plan:${planId}:tasks`,
    planAnnounced: (planId) => `${prefix}:plan:${planId}:announced`,
    planStaging: (planId, stageId) => `${prefix}:plan:${planId}:staging:${stageId}`,
    planPolling: (planId) => `${prefix}:plan:${planId}:polling`,
    planMetaPattern: `${prefix}:plan:*:meta`,
    planIdOfMetaKey: (key) => {
      const head = `${prefix}:plan:`;
      const tail = ':meta';
      return key.startsWith(head) && key.endsWith(tail) && key.length > head.length + tail.length ? key.slice(head.length, -tail.length) : undefined;
    },
    planPermanentErrorLogged: (planId) => `${prefix}:plan:${planId}:permanent-logged`,
    discoveredPlans: `${prefix}:discovered`,
    discoveredPlanAccounts: `${prefix}:discovered:account`,
    unknownPlans: `${prefix}:plans:unknown`,
    history: `${prefix}:history`,
    deliveryDone: (id) => `${prefix}:delivery:done:${id}`,
    deliveryClaim: (id) => `${prefix}:delivery:claim:${id}`,
    deliveredIndex: `${prefix}:delivery:done-index`,
    silences: `${prefix}:silences`,
    silenced: `${prefix}:silenced`,
    ack: (taskId) => `${prefix}:ack:${taskId}`,
    backupSetDone: (planId, backupSetId) => `${prefix}:backupset-done:${planId}:${backupSetId}`,
    watchdog: (kind, id) => `${prefix}:watchdog:${kind}:${id}`,
    configReload: `${prefix}:config-reload`,
    dbsRequestWindow: `${prefix}:ratelimit:dbs`,
    accountRequestWindow: (accountId) => `${prefix}:ratelimit:account:${accountId}`,
    webhookWindow: (channelName) => `${prefix}:ratelimit:slack:${channelName}`,
    endpointWindow: (channelType, urlHash, window) => `${prefix}:ratelimit:${channelType}:${urlHash}:${window}`,
  };
}

/** Every plan's Job Scheduler id starts with this; reconciliation removes the ones no longer configured. */
export const PLAN_SCHEDULER_PREFIX = 'plan.';

/** Id of a plan's Job Scheduler (BullMQ-safe: no `:`). */
export function planSchedulerId(planId: string): string {
  return `${PLAN_SCHEDULER_PREFIX}${idPart(planId)}`;
}

/** Id of the discovery Job Scheduler. */
export const DISCOVER_SCHEDULER_ID = 'discover';
