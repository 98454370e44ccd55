/**
 * The words of the domain, defined once; the pure core (diff, routing,
 * notification model, renderers) imports them from here rather than from
 * the config.
 *
 * - **plan**: a DBS backup plan (`BackupPlanId`), configured or discovered; polled on its interval.
 * - **instance**: a database instance whose advanced downloads (API 2021-01-01) are watched like a plan's tasks.
 * - **task**: one backup-set download task of a plan (`BackupSetDownloadTaskId`), with a status.
 * - **transition**: a task's status changing between two complete polls (or a task first seen after the baseline).
 * - **event**: what a transition means to people: `finished`, `failed`, or `progress` (any other change).
 * - **notification**: one transition for one channel, with a stable id (exactly once per id).
 * - **channel**: a named destination from the config (a Slack webhook, an SMTP recipient list, …).
 * - **digest**: one message carrying many notifications for one channel (a burst from one poll).
 * - **watchdog event**: something dbswatch says about itself (a plan failing or stale, a channel failing, recovery).
 * - **reminder**: a failed download announced again while nobody acted on it.
 * - **silence**: a rule that mutes matching notifications for a while (they are recorded, not sent).
 */

/**
 * Events a transition can raise. `finished` and `failed` are on by default; `progress` is opt-in.
 * `expired` (on by default wherever `finished` goes) and `expiring` (opt-in) come from advanced downloads
 * (instances, API 2021-01-01) only.
 */
export const EVENT_KINDS = ['finished', 'failed', 'progress', 'expired', 'expiring'] as const;
/** One of EVENT_KINDS. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** Events dbswatch raises about itself (see src/alerting/watchdog.ts). */
export const WATCHDOG_EVENTS = ['plan-failing', 'plan-stale', 'plan-recovered', 'notifications-failing', 'notifications-recovered'] as const;
/** One of WATCHDOG_EVENTS. */
export type WatchdogEventKind = (typeof WATCHDOG_EVENTS)[number];

/** A plan as messages name it. */
export interface PlanRef {
  readonly id: string;
  /** The configured name; the id when none is set. */
  readonly name: string;
}
