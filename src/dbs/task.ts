/**
 * The download-task model: what dbswatch knows about one
 * `BackupSetDownloadTaskDetail` after normalisation (see normalise.ts).
 * Field meanings follow shared/reference/dbs-api.md, not the public page.
 */

/** Statuses of the DBS download state machine. Unknown ones are kept as plain strings. */
export const KNOWN_STATUSES = [
  'checking',
  'check_pass',
  'init',
  'schedule',
  'running',
  'finish',
  'stop',
  'pause',
] as const;
export type KnownStatus = (typeof KNOWN_STATUSES)[number];
/** A status as DBS sent it: one of KNOWN_STATUSES, or something new we keep as-is. */
export type TaskStatus = KnownStatus | (string & {});

export function isKnownStatus(status: string): status is KnownStatus {
  return (KNOWN_STATUSES as readonly string[]).includes(status);
}

/** A normalised download task: camelCase, numbers as numbers, absent instead of empty. */
export interface DownloadTask {
  /** BackupSetDownloadTaskId — the key. */
  readonly taskId: string;
  readonly planId: string;
  readonly status: TaskStatus;
  readonly name?: string;
  readonly backupSetId?: string;
  /** e.g. a binlog file name. */
  readonly backupSetCode?: string;
  /** Database engine, e.g. `MySQL`. */
  readonly dbType?: string;
  /** `cbs_backup_sub_full` (full) or `cbs_backup_sub_cont` (incremental). */
  readonly jobType?: string;
  /** `Native`, `SQL`, `CSV` or `JSON`. */
  readonly dataFormat?: string;
  /** Bytes. */
  readonly dataSize?: number;
  /** `manual` (URL) or `auto` (pushed through a backup gateway). */
  readonly downloadWay?: string;
  /** Public URL, http(s) only, pre-signed: a bearer credential. */
  readonly internetUrl?: string;
  /** VPC URL, http(s) only, pre-signed. */
  readonly intranetUrl?: string;
  /** `auto` only: destination type (`agent`). */
  readonly targetType?: string;
  /** `auto` only: destination directory. */
  readonly downloadDir?: string;
  /** `auto` only. */
  readonly gatewayId?: number;
  /** Epoch ms. */
  readonly createdAt?: number;
  /** Epoch ms. */
  readonly finishedAt?: number;
  /** Why the task stopped. */
  readonly errorMessage?: string;
  // Advanced downloads (instances, API 2021-01-01) only — see src/dbs2021/pipeline.ts.
  /** The DownloadStatus as DBS sent it (normalised); `status` holds its pipeline mapping. */
  readonly downloadStatus?: string;
  /** RegionCode of the instance. */
  readonly region?: string;
  /** OSS targets: the path in the bucket the data was written to. */
  readonly targetPath?: string;
  /** `"done/total"` tables exported. */
  readonly progress?: string;
  /** Estimated end of the result's 3-day life (URL targets), epoch ms. */
  readonly resultExpiresAt?: number;
  /** Set in memory at send time only (never stored): when the minted links stop working, epoch ms. */
  readonly linksExpireAt?: number;
  /** Set in memory at send time only: why no links could be minted. */
  readonly linksNote?: string;
}

/** Human label for a job type. */
export function jobTypeLabel(jobType: string | undefined): string | undefined {
  if (jobType === 'cbs_backup_sub_full') return 'full';
  if (jobType === 'cbs_backup_sub_cont') return 'incremental';
  return jobType;
}
