/**
 * Reads an instance's COMPLETE advanced-download task list, or throws — the
 * same contract and algorithm as the 2019 pager (`readCompleteList`: retries
 * per page, de-duplication by TaskId, re-read when the totals move), adapted
 * to 2021-01-01 paging: `CurrentPage` is 1-based and a read stops at an empty
 * (or missing) list, at `PageNumber >= TotalPages`, or once `TotalElements`
 * distinct task ids have been seen (reference §12.1). Oldest first
 * (`OrderDirect=asc`), so a task created mid-read lands on the last page.
 */

import { readCompleteList } from '../dbs/pager.js';
import type { Logger } from '../logger.js';
import type { Dbs2021Api } from './client.js';
import type { AdvancedDownloadTask } from './task.js';

/** Page size for DescribeDownloadTask. Default and maximum are undocumented; 50 is the documented example. */
export const ADVANCED_PAGE_SIZE = 50;

/** Options of `listAllAdvancedTasks`. */
export interface AdvancedPagerOptions {
  /** Default: ADVANCED_PAGE_SIZE. */
  readonly pageSize?: number;
  readonly log?: Logger;
  /** Injected for tests. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly backoffBaseMs?: number;
}

/** Every advanced download task of one instance, distinct by TaskId. */
export async function listAllAdvancedTasks(
  api: Pick<Dbs2021Api, 'describeDownloadTaskPage'>,
  instance: { readonly id: string; readonly region: string },
  options: AdvancedPagerOptions = {},
): Promise<{ tasks: AdvancedDownloadTask[]; requests: number; pages: number }> {
  const pageSize = options.pageSize ?? ADVANCED_PAGE_SIZE;
  const result = await readCompleteList<AdvancedDownloadTask>(
    async (pageIndex) => {
      // readCompleteList counts pages from 0; DBS 2021 counts from 1.
      const page = await api.describeDownloadTaskPage({
        region: instance.region,
        instanceName: instance.id,
        currentPage: pageIndex + 1,
        pageSize,
      });
      return { pageNum: pageIndex, totalPages: page.totalPages, totalElements: page.totalElements, items: page.items };
    },
    {
      keyOf: (task) => task.taskId,
      what: `advanced download tasks of instance ${instance.id}`,
      log: options.log,
      sleep: options.sleep,
      ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
    },
  );
  return { tasks: result.items, requests: result.requests, pages: result.pages };
}
