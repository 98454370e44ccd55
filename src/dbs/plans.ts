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
  /** DescribeBackupPlanList's own filters (config `discover.region`, `discover.resourceGroupId`). */
  readonly filter?: { readonly region?: string; readonly resourceGroupId?: string };
}

/** Every backup plan visible to the credential, distinct by plan id. */
export async function listAllBackupPlans(api: DbsApi, options: PlanListOptions = {}): Promise<BackupPlanSummary[]> {
  const { items } = await readCompleteList<BackupPlanSummary>(
    (pageNum) =>
      api.describeBackupPlanPage({
        pageNum,
        pageSize: PLAN_PAGE_SIZE,
        ...(options.filter?.region ? { region: options.filter.region } : {}),
        ...(options.filter?.resourceGroupId ? { resourceGroupId: options.filter.resourceGroupId } : {}),
      }),
    { keyOf: (plan) => plan.planId, what: 'backup plans', log: options.log, sleep: options.sleep },
  );
  return items;
}

/** What discovery keeps (config `discover.include/exclude/statuses`). */
export interface PlanSelection {
  /** Globs on id or name; a plan must match one. Default: all. */
  readonly include?: readonly string[];
  /** Globs on id or name; a match is skipped. Default: none. */
  readonly exclude?: readonly string[];
  /** Statuses kept. Default: every status except `wait` (a plan bought but not configured yet). */
  readonly statuses?: readonly string[];
}

/** Default `discover.statuses`: everything but `wait`. A plan without a status is kept. */
export const EXCLUDED_BY_DEFAULT_STATUSES: readonly string[] = ['wait'];

/** The plans discovery tracks (pure). */
export function selectPlans(plans: readonly BackupPlanSummary[], selection: PlanSelection): BackupPlanSummary[] {
  const matches = (globs: readonly string[], plan: BackupPlanSummary) =>
    globs.some((glob) => globMatch(glob, plan.planId) || (plan.name !== undefined && globMatch(glob, plan.name)));
  return plans.filter((plan) => {
    if (selection.statuses) {
      if (plan.status === undefined || !selection.statuses.includes(plan.status)) return false;
    } else if (plan.status !== undefined && EXCLUDED_BY_DEFAULT_STATUSES.includes(plan.status)) return false;
    if (selection.include && !matches(selection.include, plan)) return false;
    if (selection.exclude && matches(selection.exclude, plan)) return false;
    return true;
  });
}

/** Shell-style glob, whole string, case-sensitive: `*` any run, `?` one character, everything else literal. */
export function globMatch(glob: string, text: string): boolean {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(text);
}
