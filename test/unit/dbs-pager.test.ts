/**
 * The paging algorithm against a tiny in-memory DBS (newest first, 0-based
 * pages). The same cases run against the real simulator and client in
 * test/integration/dbs-pager.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { BackupPlanPage, DbsApi, DownloadTaskPage, DownloadTaskQuery } from '../../src/dbs/client.js';
import { DbsApiError } from '../../src/dbs/errors.js';
import { listAllDownloadTasks } from '../../src/dbs/pager.js';
import { listAllBackupPlans } from '../../src/dbs/plans.js';
import type { DownloadTask } from '../../src/dbs/task.js';
import { PERMANENT, RETRYABLE, rateLimited } from '../../src/errors.js';

type Hook = (pageNum: number, api: MemoryDbs) => void;

class MemoryDbs implements DbsApi {
  /** Newest first, like DBS. */
  tasks: DownloadTask[] = [];
  requests = 0;
  private next = 0;
  /** Runs before a page is answered; may mutate the list or throw. */
  beforePage: Hook = () => {};

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.add();
  }

  add(): void {
    this.next++;
    this.tasks.unshift({ taskId: `t${this.next}`, planId: 'p', status: 'running' });
  }

  async describeDownloadTaskPage(query: DownloadTaskQuery): Promise<DownloadTaskPage> {
    if (!('planId' in query)) throw new Error('not used here');
    this.requests++;
    this.beforePage(query.pageNum, this);
    const start = query.pageNum * query.pageSize;
    return {
      pageNum: query.pageNum,
      pageSize: query.pageSize,
      totalElements: this.tasks.length,
      totalPages: Math.ceil(this.tasks.length / query.pageSize),
      items: this.tasks.slice(start, start + query.pageSize),
    };
  }

  async describeBackupPlanPage(query: { pageNum: number; pageSize: number }): Promise<BackupPlanPage> {
    this.requests++;
    const plans = this.tasks.map((t) => ({ planId: t.taskId }));
    const start = query.pageNum * query.pageSize;
    return {
      pageNum: query.pageNum,
      pageSize: query.pageSize,
      totalElements: plans.length,
      totalPages: Math.ceil(plans.length / query.pageSize),
      items: plans.slice(start, start + query.pageSize),
    };
  }
}

const sleeps: number[] = [];
const fakeSleep = async (ms: number) => {
  sleeps.push(ms);
};
const ids = (tasks: readonly DownloadTask[]) => tasks.map((t) => t.taskId).sort();

describe('listAllDownloadTasks', () => {
  it.each([
    [0, 30, 1],
    [1, 30, 1],
    [30, 30, 1],
    [31, 30, 2],
    [99, 100, 1],
    [100, 100, 1],
    [101, 100, 2],
    [2350, 50, 47],
  ] as const)('%i tasks at page size %i: complete in exactly %i requests', async (count, pageSize, expectedRequests) => {
    const api = new MemoryDbs(count);
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize, sleep: fakeSleep });
    expect(ids(snapshot.tasks)).toEqual(ids(api.tasks));
    expect(new Set(ids(snapshot.tasks)).size).toBe(count);
    expect(api.requests).toBe(expectedRequests);
    expect(snapshot).toMatchObject({ planId: 'p', requests: expectedRequests, pages: expectedRequests });
  });

  it('re-reads a list that grew while paging and returns the complete new list', async () => {
    const api = new MemoryDbs(75);
    let grown = false;
    api.beforePage = (pageNum, dbs) => {
      if (pageNum === 1 && !grown) {
        grown = true;
        for (let i = 0; i < 7; i++) dbs.add();
      }
    };
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep });
    expect(ids(snapshot.tasks)).toEqual(ids(api.tasks));
    expect(snapshot.tasks).toHaveLength(82);
    // First pass: pages 0 and 1 (shift detected); second pass: 3 pages.
    expect(snapshot.requests).toBe(5);
  });

  it('throws ListChangedWhilePaging, never a partial list, when the list keeps changing', async () => {
    const api = new MemoryDbs(75);
    api.beforePage = (pageNum, dbs) => {
      if (pageNum === 1) dbs.add();
    };
    const failure = listAllDownloadTasks(api, 'p', { pageSize: 30, maxRereads: 2, sleep: fakeSleep });
    await expect(failure).rejects.toBeInstanceOf(DbsApiError);
    await expect(failure).rejects.toMatchObject({ code: 'ListChangedWhilePaging', retry: { kind: 'retryable' } });
    expect(api.requests).toBe(6); // 3 passes × 2 pages
  });

  it('re-reads when a task disappears between pages without the totals changing', async () => {
    // One removed and one added between page 0 and page 1: same totals, but a task slips past.
    const api = new MemoryDbs(60);
    let done = false;
    api.beforePage = (pageNum, dbs) => {
      if (pageNum === 1 && !done) {
        done = true;
        dbs.tasks.splice(45, 1);
        dbs.add();
      }
    };
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep });
    expect(ids(snapshot.tasks)).toEqual(ids(api.tasks));
    expect(snapshot.requests).toBe(4);
  });

  it('keeps the later copy of a task seen on two pages', async () => {
    const api = new MemoryDbs(40);
    // Page 1 repeats the last task of page 0 with a newer status (the list shifted by one then back).
    const original = api.describeDownloadTaskPage.bind(api);
    api.describeDownloadTaskPage = async (query) => {
      const page = await original(query);
      if ('pageNum' in query && query.pageNum === 1) {
        const repeated = { ...(api.tasks[29] as DownloadTask), status: 'finish' };
        return { ...page, items: [repeated, ...page.items] };
      }
      return page;
    };
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep });
    expect(snapshot.tasks).toHaveLength(40);
    expect(snapshot.tasks.find((t) => t.taskId === api.tasks[29]?.taskId)?.status).toBe('finish');
  });

  it('retries a page that fails with a retryable error, then returns the full set', async () => {
    const api = new MemoryDbs(130);
    let failures = 2;
    api.beforePage = (pageNum) => {
      if (pageNum === 2 && failures-- > 0) throw new DbsApiError('unavailable', 'ServiceUnavailable', RETRYABLE);
    };
    sleeps.length = 0;
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, pageAttempts: 3, sleep: fakeSleep });
    expect(snapshot.tasks).toHaveLength(130);
    expect(snapshot.requests).toBe(7);
    expect(sleeps).toHaveLength(2);
  });

  it('waits at least the rate-limit delay before retrying a throttled page', async () => {
    const api = new MemoryDbs(10);
    let failures = 1;
    api.beforePage = () => {
      if (failures-- > 0) throw new DbsApiError('throttled', 'Throttling.User', rateLimited(4_321));
    };
    sleeps.length = 0;
    await listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep, backoffBaseMs: 10 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(4_321);
  });

  it('throws the page error once attempts are exhausted (no partial result)', async () => {
    const api = new MemoryDbs(130);
    api.beforePage = (pageNum) => {
      if (pageNum === 3) throw new DbsApiError('unavailable', 'ServiceUnavailable', RETRYABLE);
    };
    await expect(listAllDownloadTasks(api, 'p', { pageSize: 30, pageAttempts: 2, sleep: fakeSleep })).rejects.toMatchObject({
      code: 'ServiceUnavailable',
    });
    expect(api.requests).toBe(5); // pages 0, 1, 2, then page 3 twice
  });

  it('does not retry a permanent error', async () => {
    const api = new MemoryDbs(10);
    api.beforePage = () => {
      throw new DbsApiError('no such plan', 'Param.NotFound', PERMANENT);
    };
    await expect(listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep })).rejects.toMatchObject({ code: 'Param.NotFound' });
    expect(api.requests).toBe(1);
  });

  it('stops at an empty page and re-reads when it came too early', async () => {
    const api = new MemoryDbs(50);
    let emptied = false;
    const original = api.describeDownloadTaskPage.bind(api);
    api.describeDownloadTaskPage = async (query) => {
      const page = await original(query);
      if ('pageNum' in query && query.pageNum === 1 && !emptied) {
        emptied = true;
        return { ...page, items: [] };
      }
      return page;
    };
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, sleep: fakeSleep });
    expect(snapshot.tasks).toHaveLength(50);
    expect(snapshot.requests).toBe(4);
  });
});

describe('listAllBackupPlans', () => {
  it('reads every plan with page size 100', async () => {
    const api = new MemoryDbs(250);
    const plans = await listAllBackupPlans(api);
    expect(plans.map((p) => p.planId).sort()).toEqual(ids(api.tasks));
    expect(api.requests).toBe(3);
  });
});

// Issue 15: a per-poll page budget and paging that stops on shutdown.
describe('page budget and shutdown', () => {
  /** A runaway list: TotalPages 1e7, new ids on every page. */
  const runaway = (): DbsApi & { requests: number } => {
    const api = {
      requests: 0,
      async describeDownloadTaskPage(query: DownloadTaskQuery): Promise<DownloadTaskPage> {
        if (!('planId' in query)) throw new Error('not used here');
        api.requests++;
        const items = Array.from({ length: query.pageSize }, (_, i) => ({ taskId: `r${query.pageNum}-${i}`, planId: 'p', status: 'running' }));
        return { pageNum: query.pageNum, pageSize: query.pageSize, totalPages: 1e7, totalElements: 1e9, items };
      },
      async describeBackupPlanPage(): Promise<BackupPlanPage> {
        throw new Error('not used here');
      },
    };
    return api;
  };

  it('stops a runaway list at maxPages with a permanent TooManyPages naming dbs.maxPagesPerPoll', async () => {
    const api = runaway();
    const error = await listAllDownloadTasks(api, 'p', { pageSize: 30, maxPages: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbsApiError);
    expect(error).toMatchObject({ code: 'TooManyPages', retry: PERMANENT });
    expect((error as Error).message).toContain('dbs.maxPagesPerPoll');
    // Before the budget a pass read up to 10,000 pages, and the poll was retried 5 times.
    expect(api.requests).toBe(50);
  });

  it('reads a list of exactly maxPages pages', async () => {
    const api = new MemoryDbs(90);
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize: 30, maxPages: 3 });
    expect(snapshot.tasks).toHaveLength(90);
  });

  it('stops paging at the next page once the signal aborts', async () => {
    const api = runaway();
    const controller = new AbortController();
    const reading = listAllDownloadTasks(
      {
        ...api,
        describeDownloadTaskPage: async (q) => {
          if ('pageNum' in q && q.pageNum === 5) controller.abort();
          return api.describeDownloadTaskPage(q);
        },
      },
      'p',
      { pageSize: 30, signal: controller.signal },
    );
    await expect(reading).rejects.toMatchObject({ code: 'Aborted', retry: RETRYABLE });
    expect(api.requests).toBe(6);
  });
});

describe('listAllDownloadTasks without TotalPages/TotalElements (optional in the SDK models)', () => {
  /** The same memory DBS, answering without totals. */
  class NoTotals extends MemoryDbs {
    override async describeDownloadTaskPage(query: DownloadTaskQuery): Promise<DownloadTaskPage> {
      const { totalPages: _p, totalElements: _e, ...page } = await super.describeDownloadTaskPage(query);
      return page;
    }
  }

  it.each([
    [0, 30, 1, 'an empty first page'],
    [29, 30, 1, 'a short first page'],
    [30, 30, 2, 'a full page, then an empty one'],
    [61, 30, 3, 'two full pages, then a short one'],
    [90, 30, 4, 'three full pages, then an empty one'],
  ] as const)('%i tasks at page size %i: complete in %i requests (%s)', async (count, pageSize, expectedRequests, _why) => {
    const api = new NoTotals(count);
    const snapshot = await listAllDownloadTasks(api, 'p', { pageSize, sleep: fakeSleep });
    expect(ids(snapshot.tasks)).toEqual(ids(api.tasks));
    expect(api.requests).toBe(expectedRequests);
  });
});
