/**
 * The advanced-download task model (DBS 2021-01-01 `DescribeDownloadTask`
 * items) and its normaliser. Pure: no I/O, no clock.
 *
 * Every item field arrives as a string, numbers included; `Success` is a
 * string; `DownloadStatus` comes as `queueing` or `queuing`, sometimes
 * capitalised (reference §3–§4). Lenient on everything but the key (TaskId)
 * and the state (DownloadStatus): without those the answer is unusable.
 */
import { invalidResponse } from '../dbs/errors.js';
import { MAX_ID_LENGTH, text, toNumber, type Warn } from '../dbs/normalise.js';

/** The six documented states, canonical spelling. Unknown values are kept as sent. */
export const ADVANCED_STATES = ['initializing', 'queueing', 'running', 'failed', 'finished', 'expired'] as const;
export type AdvancedState = (typeof ADVANCED_STATES)[number];
/** A state as normalised: one of ADVANCED_STATES, or an unknown value kept as-is. */
export type AdvancedStatus = AdvancedState | (string & {});

/** URL-target task results expire this long after they finish (documented: three days). */
export const ADVANCED_RESULT_LIFETIME_MS = 3 * 86_400_000;

/** One advanced download task, normalised: numbers as numbers, absent instead of empty. */
export interface AdvancedDownloadTask {
  /** `dt-…`: the key. */
  readonly taskId: string;
  readonly status: AdvancedStatus;
  /** RegionCode of the instance. */
  readonly region?: string;
  /** Source backup set id (the RDS/PolarDB backup id). */
  readonly bakSetId?: string;
  /** `pitr` tasks: the point in time downloaded, epoch ms. */
  readonly backupSetTime?: number;
  /** `"done/total"` tables. */
  readonly progress?: string;
  /** e.g. `csv`, `SQL`, `Parquet` (case as sent). */
  readonly format?: string;
  /** `URL` (fetch through DescribeDownloadBackupSetStorageInfo) or `OSS` (written to your bucket), upper-cased. */
  readonly targetType?: string;
  /** OSS targets: the destination path in the bucket. */
  readonly targetPath?: string;
  /** Bytes written out. */
  readonly exportDataSize?: number;
  /** Bytes read. */
  readonly importDataSize?: number;
  /** Databases covered, free text (not JSON). */
  readonly dbList?: string;
  /** Epoch ms. */
  readonly createdAt?: number;
}

const warnedStates = new Set<string>();

/** `queuing`/`Queueing`/… → `queueing`; other known states lower-cased; unknown ones kept. */
export function normaliseAdvancedStatus(value: unknown): AdvancedStatus | undefined {
  const raw = text(value, 64);
  if (!raw) return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'queuing') return 'queueing';
  return (ADVANCED_STATES as readonly string[]).includes(lower) ? lower : raw;
}

/** `Success` is a string in 2021-01-01 (`"true"`, `"True"`, `"false"`); a boolean is accepted too. */
export function isSuccess(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const lower = value.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** Normalises one `Data.Content.List[]` item; throws an invalid-response `DbsApiError` without TaskId or DownloadStatus. */
export function normaliseAdvancedTask(raw: unknown, warn: Warn = () => {}): AdvancedDownloadTask {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalidResponse('a DescribeDownloadTask item is not an object');
  const item = raw as Record<string, unknown>;
  const taskId = text(item.TaskId, MAX_ID_LENGTH + 1);
  if (!taskId) throw invalidResponse('a download task has no TaskId');
  if (taskId.length > MAX_ID_LENGTH) throw invalidResponse(`a TaskId is longer than ${MAX_ID_LENGTH} characters`);
  const status = normaliseAdvancedStatus(item.DownloadStatus);
  if (!status) throw invalidResponse(`task ${taskId} has no DownloadStatus`);
  if (!(ADVANCED_STATES as readonly string[]).includes(status) && !warnedStates.has(status) && warnedStates.size < 100) {
    warnedStates.add(status);
    warn('DBS sent an unknown advanced download status; keeping it as-is', { status, taskId, known: ADVANCED_STATES });
  }
  const number = (field: string): number | undefined => {
    const value = toNumber(item[field]);
    if (value === 'invalid') {
      warn('DBS sent a non-numeric value for a numeric field; ignoring it', { field, taskId });
      return undefined;
    }
    return value !== undefined && value >= 0 ? value : undefined;
  };
  const task: Record<string, unknown> = {
    taskId,
    status,
    region: text(item.RegionCode, 64),
    bakSetId: text(item.BakSetId, MAX_ID_LENGTH),
    backupSetTime: epochMs(number('BackupSetTime')),
    progress: text(item.Progress, 64),
    format: text(item.Format, 64),
    targetType: text(item.TargetType, 16)?.toUpperCase(),
    targetPath: text(item.TargetPath),
    exportDataSize: number('ExportDataSize'),
    importDataSize: number('ImportDataSize'),
    dbList: text(item.DbList),
    createdAt: epochMs(number('GmtCreate')),
  };
  for (const key of Object.keys(task)) if (task[key] === undefined) delete task[key];
  return task as unknown as AdvancedDownloadTask;
}

/** `ExpirationTime` of a minted URL: below 10^11 it is seconds (the official example), else ms (the SDK docs). */
export function expirationMs(value: unknown): number | undefined {
  const n = toNumber(value);
  if (n === undefined || n === 'invalid' || n <= 0) return undefined;
  return Math.round(n < 1e11 ? n * 1000 : n);
}

function epochMs(n: number | undefined): number | undefined {
  if (n === undefined || n <= 0) return undefined;
  return Math.round(n < 1e11 ? n * 1000 : n);
}
