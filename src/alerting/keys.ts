/**
 * Redis keys of the alerting features, in one place (like `historyKey`,
 * `RedisStateStore.metaKey`): every key starts with the deployment prefix so
 * tests and deployments never collide.
 */

export const alertingKeys = {
  /** Hash: silence id → JSON of a runtime silence (`dbswatch silence add`). */
  silences: (prefix: string) => `${prefix}:silences`,
  /** List (newest first, capped): JSON records of silenced notifications. */
  silenced: (prefix: string) => `${prefix}:silenced`,
  /** String with a TTL: a failed task someone acknowledged (`dbswatch ack`). */
  ack: (prefix: string, taskId: string) => `${prefix}:ack:${taskId}`,
  /** String with a TTL: when a download of this backup set last finished (resolves reminders). */
  backupSetDone: (prefix: string, planId: string, backupSetId: string) => `${prefix}:backupset-done:${planId}:${backupSetId}`,
  /** String (JSON): watchdog state of a plan or a channel. */
  watchdog: (prefix: string, kind: 'plan' | 'channel', id: string) => `${prefix}:watchdog:${kind}:${id}`,
  /** Hash: config reload outcome (`ok`, `at`), shared by every process for the status page. */
  reload: (prefix: string) => `${prefix}:config-reload`,
} as const;
