/**
 * Raw `BackupSetDownloadTaskDetail` → `DownloadTask`. Pure: no I/O, no
 * clock; problems are reported through `warn` and the caller logs them.
 *
 * DBS is lenient in what it sends (numbers as strings, empty strings for
 * "none", URLs in literal quotes or without a scheme), so this is lenient in
 * what it accepts — except for the two fields the whole tracker keys on (task
 * id and status): without them the answer is unusable and the poll fails.
 */

import { stripUrlQueries } from '../secrets.js';
import { invalidResponse } from './errors.js';
import { type DownloadTask, isKnownStatus, KNOWN_STATUSES, type TaskStatus } from './task.js';

/** Longest text kept from the API (names, codes, error messages). Default: 4 kB — a 1 MB name must not travel downstream. */
export const MAX_TEXT_LENGTH = 4_096;
/** Longest download URL accepted; longer ones are dropped (a cut URL would be broken). Default: 8 kB. */
export const MAX_URL_LENGTH = 8_192;
/** Longest task id accepted; an id is a key, so a longer one makes the answer invalid. */
export const MAX_ID_LENGTH = 256;

/** Receives non-fatal problems; fields never hold a whole pre-signed URL. */
export type Warn = (message: string, fields?: object) => void;

export interface NormaliseContext {
  /** The plan being read; used when the item carries no BackupPlanId of its own. */
  readonly planId: string;
  readonly warn?: Warn;
}

const noWarn: Warn = () => {};

// Unknown statuses are logged once per process, not once per poll per task. Bounded so a hostile API cannot grow it.
const warnedStatuses = new Set<string>();
const MAX_WARNED_STATUSES = 100;

/** Tells `warn` about a status outside KNOWN_STATUSES, once per status per process (both read paths call it). */
export function warnIfUnknownStatus(status: TaskStatus, taskId: string, warn: Warn): void {
  if (isKnownStatus(status) || warnedStatuses.has(status) || warnedStatuses.size >= MAX_WARNED_STATUSES) return;
  warnedStatuses.add(status);
  warn('DBS sent an unknown download status; keeping it as-is', { status, taskId, known: KNOWN_STATUSES });
}

/** Normalises one raw task; throws an invalid-response `DbsApiError` when it has no id or status. */
export function normaliseTask(raw: unknown, context: NormaliseContext): DownloadTask {
  const warn = context.warn ?? noWarn;
  const { item, taskId, status } = identify(raw);
  warnIfUnknownStatus(status, taskId, warn);

  const planId = context.planId || text(item.BackupPlanId, MAX_ID_LENGTH) || '';
  // Only defined fields, always added in the same order: absent rather than `undefined`-valued (equality
  // checks and JSON round-trips downstream stay simple), and tasks share hidden classes (`delete` would drop
  // each object to dictionary mode). Module-level helpers, no closures: this runs for every task of a page.
  const task: MutableTask = { taskId, planId, status };
  put(task, 'name', text(item.BackupSetDownloadTaskName));
  put(task, 'backupSetId', text(item.BackupSetId));
  put(task, 'backupSetCode', text(item.BackupSetCode));
  put(task, 'dbType', text(item.BackupSetDbType));
  put(task, 'jobType', text(item.BackupSetJobType));
  put(task, 'dataFormat', text(item.BackupSetDataFormat));
  put(task, 'dataSize', nonNegative(numberField(item, 'BackupSetDataSize', warn, taskId)));
  put(task, 'downloadWay', text(item.BackupSetDownloadWay));
  put(task, 'internetUrl', urlField(item, 'BackupSetDownloadInternetUrl', warn, taskId));
  put(task, 'intranetUrl', urlField(item, 'BackupSetDownloadIntranetUrl', warn, taskId));
  put(task, 'targetType', text(item.BackupSetDownloadTargetType));
  put(task, 'downloadDir', text(item.BackupSetDownloadDir));
  // 0 is what DBS sends for "no gateway" (manual downloads).
  put(task, 'gatewayId', positive(numberField(item, 'BackupGatewayId', warn, taskId)));
  put(task, 'createdAt', epochMs(numberField(item, 'BackupSetDownloadCreateTime', warn, taskId)));
  put(task, 'finishedAt', epochMs(numberField(item, 'BackupSetDownloadFinishTime', warn, taskId)));
  // Free text that can quote a pre-signed URL: its query string (the credential) is cut here, before
  // the message is logged, stored in a job or shown anywhere.
  put(task, 'errorMessage', cutUrlQueries(text(item.ErrMessage)));
  return task;
}

type MutableTask = { -readonly [K in keyof DownloadTask]: DownloadTask[K] };

function put<K extends keyof DownloadTask>(task: MutableTask, key: K, value: DownloadTask[K] | undefined): void {
  if (value !== undefined) task[key] = value;
}

function numberField(item: Record<string, unknown>, field: string, warn: Warn, taskId: string): number | undefined {
  const value = toNumber(item[field]);
  if (value === 'invalid') {
    warn('DBS sent a non-numeric value for a numeric field; ignoring it', { field, taskId });
    return undefined;
  }
  return value;
}

function urlField(item: Record<string, unknown>, field: string, warn: Warn, taskId: string): string | undefined {
  const value = item[field];
  // Absent/empty is the common case for unfinished tasks: no warn plumbing.
  if (value === undefined || value === null || value === '') return undefined;
  return normaliseDownloadUrl(value, (message, fields) => warn(message, { ...fields, field, taskId }));
}

/** The checks every raw task passes first: an object with an id (bounded) and a status; else an invalid response. */
function identify(raw: unknown): { item: Record<string, unknown>; taskId: string; status: TaskStatus } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidResponse('a BackupSetDownloadTaskDetail item is not an object');
  }
  const item = raw as Record<string, unknown>;
  const taskId = text(item.BackupSetDownloadTaskId, MAX_ID_LENGTH + 1);
  if (!taskId) throw invalidResponse('a task has no BackupSetDownloadTaskId');
  if (taskId.length > MAX_ID_LENGTH) throw invalidResponse(`a BackupSetDownloadTaskId is longer than ${MAX_ID_LENGTH} characters`);
  const status = normaliseStatus(item.BackupSetDownloadStatus);
  if (!status) throw invalidResponse(`task ${taskId} has no BackupSetDownloadStatus`);
  return { item, taskId, status };
}

/**
 * The few fields a poll needs for every task — id, status, creation and
 * finish time — and, unless `needsDetail` says the task is not news, the item
 * itself (`raw`, for `normaliseTask` when the task turns out to matter). Same
 * checks on id and status as `normaliseTask`. Only defined fields are set,
 * always in the same order (few object shapes, no `delete`).
 */
export function observeTask(
  raw: unknown,
  needsDetail?: (taskId: string, status: TaskStatus) => boolean,
): { taskId: string; status: TaskStatus; createdAt?: number; finishedAt?: number; raw?: unknown } {
  const { item, taskId, status } = identify(raw);
  const record: { taskId: string; status: TaskStatus; createdAt?: number; finishedAt?: number; raw?: unknown } = { taskId, status };
  const createdAt = epochMs(validNumber(item.BackupSetDownloadCreateTime));
  if (createdAt !== undefined) record.createdAt = createdAt;
  const finishedAt = epochMs(validNumber(item.BackupSetDownloadFinishTime));
  if (finishedAt !== undefined) record.finishedAt = finishedAt;
  if (!needsDetail || needsDetail(taskId, status)) record.raw = raw;
  return record;
}

/** `toNumber` without the warning case: an unreadable number is absent (`normaliseTask` warns about it). */
function validNumber(value: unknown): number | undefined {
  // The usual case first: DBS sends epoch ms as JSON numbers.
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const n = toNumber(value);
  return n === 'invalid' ? undefined : n;
}

/**
 * Cleans a download URL: strips literal surrounding double quotes (also
 * backslash-escaped ones), turns `//host/…` into `https://host/…`, and
 * returns undefined for anything that is not an absolute http(s) URL. The
 * URL itself is returned unchanged otherwise (re-encoding it could break the
 * signature in its query string).
 */
export function normaliseDownloadUrl(raw: unknown, warn: Warn = noWarn): string | undefined {
  if (typeof raw !== 'string') return undefined;
  // Fast path for the usual shape (`"//host/path?query"` or `https://host/…`): one anchored regex decides
  // what the slow path below would decide, without the strip loop and `new URL()`.
  const unquoted = raw.length > 1 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34 ? raw.slice(1, -1) : raw;
  if (unquoted.length <= MAX_URL_LENGTH && PLAIN_URL.test(unquoted)) return unquoted.startsWith('//') ? `https:${unquoted}` : unquoted;
  let value = raw.trim();
  for (;;) {
    const stripped = value
      .replace(/^(?:\\?")+/, '')
      .replace(/(?:\\?")+$/, '')
      .trim();
    if (stripped === value) break;
    value = stripped;
  }
  if (!value) return undefined;
  if (value.length > MAX_URL_LENGTH) {
    warn('DBS sent a download URL that is too long; ignoring it', { url: redactUrl(value), length: value.length });
    return undefined;
  }
  if (value.startsWith('//')) value = `https:${value}`;
  let parsed: URL | undefined;
  try {
    // Whitespace or control characters inside are never part of a real pre-signed URL.
    parsed = /[\s\x00-\x1f\x7f"<>\\]/.test(value) ? undefined : new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.hostname) {
    warn('DBS sent a download URL that is not http(s); ignoring it', { url: redactUrl(value) });
    return undefined;
  }
  return value;
}

/**
 * An absolute http(s) or scheme-less URL that `new URL()` accepts as is: a host of letters, digits, dots
 * and dashes whose last label starts with a letter (so never read as an IPv4 number), no port, no userinfo,
 * and nothing after it that the slow path rejects (whitespace, controls, quotes, `<>\`). Anything else
 * takes the slow path.
 */
const PLAIN_URL = /^(?:https?:)?\/\/(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?:[/?#][^\s\x00-\x1f\x7f"<>\\]*)?$/;

/** A URL fit for a log line: no query string or fragment (pre-signed URLs carry credentials there), cut short. */
export function redactUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut === -1 ? url : `${url.slice(0, cut)}?…`;
  return base.length > 200 ? `${base.slice(0, 200)}…` : base;
}

function cutUrlQueries(message: string | undefined): string | undefined {
  return message?.includes('//') ? stripUrlQueries(message) : message;
}

function normaliseStatus(value: unknown): TaskStatus | undefined {
  const status = text(value, 64);
  if (!status) return undefined;
  const lower = status.toLowerCase();
  return isKnownStatus(lower) ? lower : status;
}

/** A trimmed non-empty string cut to `max`; numbers are accepted as their decimal text. */
export function text(value: unknown, max = MAX_TEXT_LENGTH): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = (value.length > max * 2 ? value.slice(0, max * 2) : value).trim();
  if (!trimmed) return undefined;
  return trimmed.length > max ? trimmed.slice(0, max) : trimmed;
}

/** A number from a number or a numeric string; undefined for absent/empty; 'invalid' for anything else. */
export function toNumber(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'invalid';
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!trimmed) return undefined;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : 'invalid';
  }
  return 'invalid';
}

function nonNegative(n: number | undefined): number | undefined {
  return n !== undefined && n >= 0 ? n : undefined;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

/** DBS sends epoch ms; 0 means "not yet". A value below 1e11 can only be seconds (1973 in ms), so it is scaled. */
function epochMs(n: number | undefined): number | undefined {
  if (n === undefined || n <= 0) return undefined;
  return Math.round(n < 1e11 ? n * 1000 : n);
}
