/**
 * Reads a plan's COMPLETE download-task list, or throws. A partial list that
 * looks complete would make the tracker think tasks vanished (or miss
 * transitions), so every way paging can go wrong ends in an error the queue
 * retries: a page that keeps failing, or a list that keeps changing while we
 * page through it.
 *
 * DBS lists newest first, so a task created mid-read pushes older tasks one
 * slot down: the same task can show up on two pages (deduped here) and one
 * can fall off the page we already read (detected by counting, then re-read).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { PlanConfig } from '../config.js';
import { backoffDelay, DbswatchError, PERMANENT, RETRYABLE } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { DbsApi, RawDownloadTaskPage } from './client.js';
import { DbsApiError, invalidResponse } from './errors.js';
import { normaliseTask, observeTask, type Warn, warnIfUnknownStatus } from './normalise.js';
import { type DownloadTask, isKnownStatus, type TaskStatus } from './task.js';

/** Every task of one plan at (about) one moment. */
export interface TaskSnapshot {
  readonly planId: string;
  /** Distinct by taskId, in the order DBS listed them. */
  readonly tasks: DownloadTask[];
  /** DBS requests made, retries and re-reads included. */
  readonly requests: number;
  /** Pages read in the final, complete pass. */
  readonly pages: number;
}

/** Paging knobs. */
export interface PagerOptions {
  /** DBS accepts 30, 50 or 100. */
  readonly pageSize: 30 | 50 | 100;
  /** Re-reads from page 0 after the list changed mid-way. Default: 2. */
  readonly maxRereads?: number;
  /** Attempts per page for retryable / rate-limited failures. Default: 3. */
  readonly pageAttempts?: number;
  /** Default: silent. */
  readonly log?: Logger;
  /** Injected for tests. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Base of the per-page backoff. Default: 250 ms. */
  readonly backoffBaseMs?: number;
  /** Pages one pass may read (`dbs.maxPagesPerPoll`); beyond it the poll fails, permanently. Default: 10,000. */
  readonly maxPages?: number;
  /** Stops paging (shutdown): checked before each page. Default: none. */
  readonly signal?: AbortSignal;
}

/** One read of a paged list: fetches page `pageNum` (0-based). */
export type PageReader<T> = (pageNum: number) => Promise<{
  readonly pageNum: number;
  /** Page size asked for; with the totals absent, a shorter page is the last. */
  readonly pageSize?: number;
  /** Optional in the SDK models: absent, paging ends at an empty or short page. */
  readonly totalPages?: number;
  readonly totalElements?: number;
  readonly items: readonly T[];
}>;

/** Options of the generic complete-list reader. */
export interface CompleteListOptions<T> {
  readonly keyOf: (item: T) => string;
  /** What is being read, for messages: e.g. `download tasks of plan p1`. */
  readonly what: string;
  readonly maxRereads?: number;
  readonly pageAttempts?: number;
  readonly log?: Logger | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly backoffBaseMs?: number;
  readonly maxPages?: number;
  readonly signal?: AbortSignal;
  /**
   * Makes a stop rule for one pass (a re-read from page 0 gets a fresh one);
   * after each page that is not the last, a true answer ends the read early
   * and the result is marked incomplete. Default: none (read every page).
   */
  readonly stopAfterPage?: () => (page: readonly T[]) => boolean;
}

/** Result of a complete read (or of one stopped early by `stopAfterPage`). */
export interface CompleteList<T> {
  readonly items: T[];
  readonly requests: number;
  readonly pages: number;
  /** False when `stopAfterPage` ended the read before the last page. */
  readonly complete: boolean;
}

/** Pages one pass may read before the answers are judged nonsensical (10 000 pages ≈ 1M tasks). */
const MAX_PAGES_PER_PASS = 10_000;

const defaultSleep = (ms: number): Promise<void> => delay(ms);

/** Every download task of `planId`, complete and duplicate-free, or a thrown `DbsApiError`. */
export async function listAllDownloadTasks(api: DbsApi, planId: string, options: PagerOptions): Promise<TaskSnapshot> {
  const result = await readCompleteList<DownloadTask>((pageNum) => api.describeDownloadTaskPage({ planId, pageNum, pageSize: options.pageSize }), {
    ...options,
    keyOf: (task) => task.taskId,
    what: `download tasks of plan ${planId}`,
  });
  return { planId, tasks: result.items, requests: result.requests, pages: result.pages };
}

/** One listed task as a poll needs it: what the diff reads, plus the item to normalise if it is news. */
export interface TaskRecord {
  readonly taskId: string;
  readonly status: TaskStatus;
  /** Epoch ms; absent when DBS sent none (the list order then cannot be verified). */
  readonly createdAt?: number;
  /** Epoch ms; absent when DBS sent none (what the once-per-terminal-state rule compares, announced.ts). */
  readonly finishedAt?: number;
  /**
   * The item as the page reader returned it: a raw BackupSetDownloadTaskDetail, or a task already
   * normalised. Absent when the sweep was told the task's details are not needed (`SweepOptions.needsDetail`).
   */
  readonly raw?: unknown;
}

/** A read of one plan's list: all of it (`complete`), or its top when a stop rule ended it early. */
export interface TaskSweep {
  readonly planId: string;
  /** Distinct by taskId, in the order DBS listed them. */
  readonly records: TaskRecord[];
  readonly complete: boolean;
  /** DBS requests made, retries and re-reads included. */
  readonly requests: number;
  /** Pages read in the final pass. */
  readonly pages: number;
  /** The normalised task behind one of `records` (normalised now when the reader returned it raw). */
  taskOf(record: TaskRecord): DownloadTask;
}

/** What a poll tells a sweep: when it may stop paging, and which listed tasks it may need normalised. */
export interface SweepRequest {
  /** Stop rule (see tracking/sweep.ts). Default: read every page. */
  readonly stopAfterPage?: () => (page: readonly TaskRecord[]) => boolean;
  /**
   * Whether the poll may need this task normalised (its status is news). A raw sweep keeps the raw item
   * only of those: the rest of a page can be collected at once instead of living until the poll ends —
   * on a plan of thousands of settled tasks that is most of what the poll would otherwise hold.
   * Default: every task.
   */
  readonly needsDetail?: (taskId: string, status: TaskStatus) => boolean;
}

/** Paging knobs of a sweep: those of a complete read, plus what the poll asks (`SweepRequest`). */
export interface SweepOptions extends PagerOptions, SweepRequest {}

/** Where a poll gets its tasks: a sweep of records and, for the few that are news, the normalised task (`TaskSweep.taskOf`). */
export interface TaskSweeper {
  /** `plan` (when the caller knows it) picks the account the plan lives in (issue 13). */
  sweep(planId: string, request?: SweepRequest, plan?: PlanConfig): Promise<TaskSweep>;
}

/** One page of raw items (the envelope checked, the items not normalised): `DbsApi.describeRawDownloadTaskPage`. */
export type RawTaskPageReader = (query: { planId: string; pageNum: number; pageSize: number }) => Promise<RawDownloadTaskPage>;

/**
 * Sweeps a plan through a `DbsApi`, whose pages come normalised: each record
 * carries its task as `raw`. (A client that hands out raw items goes through
 * `sweepRawDownloadTasks` instead and normalises only what a poll needs.)
 */
export async function sweepDownloadTasks(api: DbsApi, planId: string, options: SweepOptions): Promise<TaskSweep> {
  return sweepPages(
    async (query) => {
      const page = await api.describeDownloadTaskPage(query);
      const items: TaskRecord[] = new Array(page.items.length);
      for (let i = 0; i < items.length; i++) items[i] = recordOf(page.items[i] as DownloadTask);
      return {
        pageNum: page.pageNum,
        pageSize: page.pageSize,
        ...(page.totalPages !== undefined ? { totalPages: page.totalPages } : {}),
        ...(page.totalElements !== undefined ? { totalElements: page.totalElements } : {}),
        items,
      };
    },
    planId,
    options,
    normalisedAlready,
  );
}

/** Sweeps a plan from raw pages: only id, status, creation and finish time are read per task (`observeTask`). */
export async function sweepRawDownloadTasks(readPage: RawTaskPageReader, planId: string, options: SweepOptions & { readonly warn?: Warn }): Promise<TaskSweep> {
  const { warn, needsDetail } = options;
  const context = warn ? { planId, warn: (message: string, fields?: object) => warn(message, { ...fields, planId }) } : { planId };
  return sweepPages(
    async (query) => {
      const page = await readPage(query);
      const items: TaskRecord[] = new Array(page.items.length);
      for (let i = 0; i < items.length; i++) {
        const record = observeTask(page.items[i], needsDetail);
        // The raw path normalises few tasks, so it says here what normaliseTask would have said about a status.
        if (context.warn && !isKnownStatus(record.status)) warnIfUnknownStatus(record.status, record.taskId, context.warn);
        items[i] = record;
      }
      return { ...page, items };
    },
    planId,
    options,
    (record) => {
      if (!('raw' in record)) throw new Error(`task ${record.taskId} of plan ${planId} was not kept for normalisation (needsDetail said no)`);
      return normaliseTask(record.raw, context);
    },
  );
}

const normalisedAlready = (record: TaskRecord): DownloadTask => record.raw as DownloadTask;

/** A normalised task as a record (only defined fields: records share one shape per field set). */
function recordOf(task: DownloadTask): TaskRecord {
  const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = { taskId: task.taskId, status: task.status, raw: task };
  if (task.createdAt !== undefined) record.createdAt = task.createdAt;
  if (task.finishedAt !== undefined) record.finishedAt = task.finishedAt;
  return record;
}

async function sweepPages(
  readPage: (query: { planId: string; pageNum: number; pageSize: number }) => ReturnType<PageReader<TaskRecord>>,
  planId: string,
  options: SweepOptions,
  taskOf: (record: TaskRecord) => DownloadTask,
): Promise<TaskSweep> {
  const result = await readCompleteList<TaskRecord>((pageNum) => readPage({ planId, pageNum, pageSize: options.pageSize }), {
    ...options,
    keyOf: (record) => record.taskId,
    what: `download tasks of plan ${planId}`,
  });
  return { planId, records: result.items, complete: result.complete, requests: result.requests, pages: result.pages, taskOf };
}

/**
 * The production task source over a `DbsApi`: `listAll` (complete, normalised) and incremental-capable
 * `sweep`. A client with raw pages (`describeRawDownloadTaskPage`, the real one) is swept lazily: every
 * task costs an id, a status and two times, and the sweep's `taskOf` normalises the few a poll needs.
 */
export function dbsTaskSource(api: DbsApi, options: () => PagerOptions): TaskSweeper & { listAll(planId: string): Promise<readonly DownloadTask[]> } {
  const optionsFor = (request?: SweepRequest): SweepOptions => (request ? { ...options(), ...request } : options());
  const readRaw = api.describeRawDownloadTaskPage?.bind(api);
  return {
    listAll: async (planId) => (await listAllDownloadTasks(api, planId, options())).tasks,
    sweep: (planId, request) => {
      if (!readRaw) return sweepDownloadTasks(api, planId, optionsFor(request));
      const pagerOptions = optionsFor(request);
      const log = pagerOptions.log;
      return sweepRawDownloadTasks(readRaw, planId, log ? { ...pagerOptions, warn: (message, fields) => log.warn(fields ?? {}, message) } : pagerOptions);
    },
  };
}

/** A complete read of already-normalised tasks (a source that can only list everything) as a sweep. */
export function sweepOfTasks(planId: string, tasks: readonly DownloadTask[]): TaskSweep {
  return { planId, records: tasks.map(recordOf), complete: true, requests: 0, pages: 0, taskOf: normalisedAlready };
}

/** Thrown inside one pass when the list moved under us; the caller re-reads. */
class ListShifted extends Error {}

/**
 * The paging algorithm, independent of what is listed (tasks, plans). Stops
 * at the first of: last page (`pageNum >= totalPages - 1`), an empty page,
 * `totalElements` distinct items seen. Re-reads from page 0 when the totals
 * change between pages or the distinct count falls short at the end.
 */
export async function readCompleteList<T>(readPage: PageReader<T>, options: CompleteListOptions<T>): Promise<CompleteList<T>> {
  const log = options.log ?? silentLogger;
  const sleep = options.sleep ?? defaultSleep;
  const maxRereads = options.maxRereads ?? 2;
  const pageAttempts = Math.max(1, options.pageAttempts ?? 3);
  const backoffBaseMs = options.backoffBaseMs ?? 250;
  let requests = 0;

  const fetchPage = async (pageNum: number) => {
    for (let attempt = 1; ; attempt++) {
      requests++;
      try {
        return await readPage(pageNum);
      } catch (error) {
        const retry = error instanceof DbswatchError ? error.retry : RETRYABLE;
        if (retry.kind === 'permanent' || attempt >= pageAttempts) throw error;
        const backoff = backoffDelay(attempt, backoffBaseMs, 10_000);
        const wait = retry.kind === 'rate-limited' ? Math.max(retry.delayMs, backoff) : backoff;
        log.info(
          { pageNum, attempt, waitMs: wait, code: error instanceof DbswatchError ? error.code : undefined },
          `DBS page read failed; retrying the page (${options.what})`,
        );
        await sleep(wait);
      }
    }
  };

  const onePass = async (): Promise<{ items: T[]; pages: number; complete: boolean }> => {
    const byKey = new Map<string, T>();
    let expected: { totalPages: number | undefined; totalElements: number | undefined } | undefined;
    let pages = 0;
    const stop = options.stopAfterPage?.();
    for (let pageNum = 0; ; pageNum++) {
      // Pages of nothing but repeats under a huge TotalPages would otherwise page forever.
      if (pageNum >= MAX_PAGES_PER_PASS) throw invalidResponse(`more than ${MAX_PAGES_PER_PASS} pages of ${options.what}`);
      // A plan's share of the request budget per poll: a list this long is runaway, not a plan. Permanent:
      // retrying would spend the same budget again; the next scheduled poll tries again.
      if (options.maxPages !== undefined && pageNum >= options.maxPages) {
        throw new DbsApiError(
          `DBS announced ${expected?.totalPages ?? '?'} pages of ${options.what}; stopped after ${options.maxPages} (dbs.maxPagesPerPoll) — raise it if the plan really is this big`,
          'TooManyPages',
          PERMANENT,
        );
      }
      if (options.signal?.aborted) throw new DbsApiError(`stopped reading ${options.what}: shutting down; will retry`, 'Aborted', RETRYABLE);
      const page = await fetchPage(pageNum);
      pages++;
      if (expected && (page.totalPages !== expected.totalPages || page.totalElements !== expected.totalElements)) {
        throw new ListShifted(`totals changed from ${expected.totalElements} items/${expected.totalPages} pages to ${page.totalElements}/${page.totalPages}`);
      }
      expected ??= { totalPages: page.totalPages, totalElements: page.totalElements };
      for (const item of page.items) {
        const key = options.keyOf(item);
        // A task seen on two pages: keep the later copy (read later, so fresher) at its first position.
        byKey.set(key, item);
      }
      if (page.items.length === 0) break;
      if (page.totalPages !== undefined && pageNum >= page.totalPages - 1) break;
      if (page.totalElements !== undefined && byKey.size >= page.totalElements) break;
      // Issue 13: TotalPages/TotalElements are optional in the SDK models. With neither, the only
      // end marks left are an empty page (above) or a short one (fewer items than asked for).
      if (page.totalPages === undefined && page.totalElements === undefined && page.pageSize !== undefined && page.items.length < page.pageSize) break;
      // Stopped early on purpose: the counts below only make sense for a whole list.
      if (stop?.(page.items)) return { items: [...byKey.values()], pages, complete: false };
    }
    // Without TotalElements there is nothing to count against: the pages themselves are the truth.
    if (expected?.totalElements === undefined) return { items: [...byKey.values()], pages, complete: true };
    const total = expected.totalElements;
    if (byKey.size < total) throw new ListShifted(`saw ${byKey.size} distinct items of ${total}`);
    if (byKey.size > total) {
      // More than announced: tasks were added after the first page's totals. Complete for what it claims, but stale.
      throw new ListShifted(`saw ${byKey.size} distinct items but DBS announced ${total}`);
    }
    return { items: [...byKey.values()], pages, complete: true };
  };

  const reasons: string[] = [];
  for (let pass = 0; ; pass++) {
    try {
      const { items, pages, complete } = await onePass();
      return { items, requests, pages, complete };
    } catch (error) {
      if (!(error instanceof ListShifted)) throw error;
      reasons.push(error.message);
      if (pass >= maxRereads && reasons.length > 1 && reasons.every((r) => r === reasons[0]) && !error.message.startsWith('totals changed')) {
        // The same mismatch on every read: not a list moving under us, but totals that contradict the items.
        throw new DbsApiError(
          `DBS's paging totals contradict its items for ${options.what} (${error.message}, the same on all ${pass + 1} reads: TotalPages/TotalElements are wrong or task ids repeat); will retry the poll`,
          'InconsistentList',
          RETRYABLE,
        );
      }
      if (pass >= maxRereads) {
        throw new DbsApiError(
          `the list of ${options.what} kept changing while it was read (${error.message}, ${pass + 1} reads); will retry the poll`,
          'ListChangedWhilePaging',
          RETRYABLE,
        );
      }
      log.info({ pass, reason: error.message }, `list changed while paging; re-reading from page 0 (${options.what})`);
    }
  }
}
