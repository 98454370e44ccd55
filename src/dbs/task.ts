/**
 * The download-task model: what dbswatch knows about one
 * `BackupSetDownloadTaskDetail` after normalisation (see normalise.ts).
 * Field meanings follow shared/reference/dbs-api.md, not the public page.
 */

import { z } from 'zod';

/** Statuses of the DBS download state machine. Unknown ones are kept as plain strings. */
export const KNOWN_STATUSES = ['checking', 'check_pass', 'init', 'schedule', 'running', 'finish', 'stop', 'pause'] as const;
export type KnownStatus = (typeof KNOWN_STATUSES)[number];
/** A status as DBS sent it: one of KNOWN_STATUSES, or something new we keep as-is. */
export type TaskStatus = KnownStatus | (string & {});

export function isKnownStatus(status: string): status is KnownStatus {
  return (KNOWN_STATUSES as readonly string[]).includes(status);
}

/**
 * A normalised download task: camelCase, numbers as numbers, absent instead
 * of empty. The schema is the contract of notify job payloads too (a job
 * written by another version must fail validation, not half-render).
 */
export const downloadTaskSchema = z.object({
  /** BackupSetDownloadTaskId — the key. */
  taskId: z.string().min(1),
  planId: z.string(),
  status: z.custom<TaskStatus>((value) => typeof value === 'string', 'must be a status word'),
  name: z.string().optional(),
  backupSetId: z.string().optional(),
  /** e.g. a binlog file name. */
  backupSetCode: z.string().optional(),
  /** Database engine, e.g. `MySQL`. */
  dbType: z.string().optional(),
  /** `cbs_backup_sub_full` (full) or `cbs_backup_sub_cont` (incremental). */
  jobType: z.string().optional(),
  /** `Native`, `SQL`, `CSV` or `JSON`. */
  dataFormat: z.string().optional(),
  /** Bytes. */
  dataSize: z.number().optional(),
  /** `manual` (URL) or `auto` (pushed through a backup gateway). */
  downloadWay: z.string().optional(),
  /** Public URL, http(s) only, pre-signed: a bearer credential. */
  internetUrl: z.string().optional(),
  /** VPC URL, http(s) only, pre-signed. */
  intranetUrl: z.string().optional(),
  /** `auto` only: destination type (`agent`). */
  targetType: z.string().optional(),
  /** `auto` only: destination directory. */
  downloadDir: z.string().optional(),
  /** `auto` only. */
  gatewayId: z.number().optional(),
  /** Epoch ms. */
  createdAt: z.number().optional(),
  /** Epoch ms. */
  finishedAt: z.number().optional(),
  /** Why the task stopped. */
  errorMessage: z.string().optional(),
  // Advanced downloads (instances, API 2021-01-01) only — see src/dbs2021/pipeline.ts.
  /** The DownloadStatus as DBS sent it (normalised); `status` holds its pipeline mapping. */
  downloadStatus: z.string().optional(),
  /** RegionCode of the instance. */
  region: z.string().optional(),
  /** OSS targets: the path in the bucket the data was written to. */
  targetPath: z.string().optional(),
  /** `"done/total"` tables exported. */
  progress: z.string().optional(),
  /** Estimated end of the result's 3-day life (URL targets), epoch ms. */
  resultExpiresAt: z.number().optional(),
  /** Set in memory at send time only (never stored): when the minted links stop working, epoch ms. */
  linksExpireAt: z.number().optional(),
  /** Set in memory at send time only: why no links could be minted. */
  linksNote: z.string().optional(),
});
/** See downloadTaskSchema. */
export type DownloadTask = Readonly<z.infer<typeof downloadTaskSchema>>;

/** Human label for a job type. */
export function jobTypeLabel(jobType: string | undefined): string | undefined {
  if (jobType === 'cbs_backup_sub_full') return 'full';
  if (jobType === 'cbs_backup_sub_cont') return 'incremental';
  return jobType;
}
