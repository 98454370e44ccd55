/**
 * Plan listing for discovery: every backup plan of the account, complete or
 * thrown — same paging rules as the task pager.
 */
import type { Logger } from '../logger.js';
import type { BackupPlanSummary, DbsApi } from './client.js';
import { readCompleteList } from './pager.js';

export type { BackupPlanSummary } from './client.js';

/** DescribeBackupPlanList accepts 1–100; the largest page means the fewest requests. */
export const PLAN_PAGE_SIZE = 100;

/** Options of `listAllBackupPlans`. */
export interface PlanListOptions {
  /** Default: silent. */
  readonly log?: Logger;
  /** Injected for tests. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Every backup plan visible to the credential, distinct by plan id. */
export async function listAllBackupPlans(api: DbsApi, options: PlanListOptions = {}): Promise<BackupPlanSummary[]> {
  const { items } = await readCompleteList<BackupPlanSummary>(
    (pageNum) => api.describeBackupPlanPage({ pageNum, pageSize: PLAN_PAGE_SIZE }),
    { keyOf: (plan) => plan.planId, what: 'backup plans', log: options.log, sleep: options.sleep },
  );
  return items;
}
