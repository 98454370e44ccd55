/**
 * Do the configured plans exist? An unknown plan id may simply answer an
 * empty task list forever, which would look like a healthy, quiet plan. So at
 * start, on every reload and in `check-config --online`, the configured ids
 * are looked up with DescribeBackupPlanList, whose `BackupPlanId` takes a
 * comma-separated list — batched, so 1,000 plans cost 20 requests.
 */
import { type Config, DEFAULT_ACCOUNT } from '../config.js';
import { DbswatchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BackupPlanSummary, CredentialLike, DbsApi } from './client.js';
import { readCompleteList } from './pager.js';
import { PLAN_PAGE_SIZE } from './plans.js';

/** Plan ids per DescribeBackupPlanList request. Below the page size, so one batch is one page. Default: 50. */
export const PLAN_CHECK_BATCH_SIZE = 50;

/** Options of the plan checks. */
export interface PlanCheckOptions {
  /** Default: silent. */
  readonly log?: Logger;
  /** Injected for tests. Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default: PLAN_CHECK_BATCH_SIZE. */
  readonly batchSize?: number;
}

/** The ids of `planIds` the account behind `api` does not know, in input order. Throws when DBS cannot be read. */
export async function findUnknownPlans(api: DbsApi, planIds: readonly string[], options: PlanCheckOptions = {}): Promise<string[]> {
  const ids = [...new Set(planIds)];
  const size = Math.max(1, options.batchSize ?? PLAN_CHECK_BATCH_SIZE);
  const known = new Set<string>();
  for (let start = 0; start < ids.length; start += size) {
    const batch = ids.slice(start, start + size);
    const { items } = await readCompleteList<BackupPlanSummary>(
      (pageNum) => api.describeBackupPlanPage({ pageNum, pageSize: PLAN_PAGE_SIZE, planIds: batch }),
      {
        keyOf: (plan) => plan.planId,
        what: 'backup plans (existence check)',
        ...(options.log ? { log: options.log } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      },
    );
    // Only exact ids count: an API that ignored the filter and listed everything still answers right.
    for (const plan of items) known.add(plan.planId);
  }
  return ids.filter((id) => !known.has(id));
}

/** One configured plan its account does not know. */
export interface UnknownPlan {
  readonly planId: string;
  readonly account: string;
}

/** Result of checking every configured plan, account by account. */
export interface PlanCheckReport {
  /** Accounts whose plans were checked (their stored results can be replaced). */
  readonly checkedAccounts: readonly string[];
  readonly unknown: readonly UnknownPlan[];
  /** Accounts that could not be checked, with a message fit for a log line (no secrets). */
  readonly failed: readonly { readonly account: string; readonly error: string }[];
}

/** Checks the configured plans of every account; an account that cannot be read is reported, not thrown. */
export async function checkConfiguredPlans(config: Config, clientFor: (account: string) => DbsApi, options: PlanCheckOptions = {}): Promise<PlanCheckReport> {
  const byAccount = new Map<string, string[]>();
  for (const plan of config.plans) {
    const account = plan.account ?? DEFAULT_ACCOUNT;
    byAccount.set(account, [...(byAccount.get(account) ?? []), plan.id]);
  }
  const checkedAccounts: string[] = [];
  const unknown: UnknownPlan[] = [];
  const failed: { account: string; error: string }[] = [];
  for (const [account, ids] of byAccount) {
    try {
      for (const planId of await findUnknownPlans(clientFor(account), ids, options)) unknown.push({ planId, account });
      checkedAccounts.push(account);
    } catch (error) {
      failed.push({ account, error: error instanceof DbswatchError || error instanceof Error ? error.message : String(error) });
    }
  }
  return { checkedAccounts, unknown, failed };
}

/** What `check-config --online` reports. */
export interface OnlineCheckResult {
  /** True when every configured plan exists and every account could be read. */
  readonly ok: boolean;
  readonly report: PlanCheckReport;
  /** Operator text, one line per finding. */
  readonly lines: readonly string[];
}

/**
 * `check-config --online`: reads DBS with each account's credential and says which configured plans it
 * does not know. One DescribeBackupPlanList request per 50 plans per account; nothing is written.
 */
export async function checkConfigOnline(
  config: Config,
  options: PlanCheckOptions & { readonly defaultCredential?: CredentialLike } = {},
): Promise<OnlineCheckResult> {
  const { DbsClients } = await import('./accounts.js');
  const clients = new DbsClients({
    config: () => config,
    ...(options.log ? { log: options.log } : {}),
    ...(options.defaultCredential ? { defaultCredential: options.defaultCredential } : {}),
  });
  const report = await checkConfiguredPlans(config, (account) => clients.forAccount(account), options);
  const lines: string[] = [];
  for (const account of report.checkedAccounts) {
    const plans = config.plans.filter((p) => (p.account ?? DEFAULT_ACCOUNT) === account).length;
    const missing = report.unknown.filter((u) => u.account === account).length;
    lines.push(`account "${account}": ${plans - missing} of ${plans} configured plan(s) found in DBS`);
  }
  for (const u of report.unknown) {
    lines.push(`plans: "${u.planId}" is not known to DBS in account "${u.account}" (check plans[].id and plans[].account)`);
  }
  for (const f of report.failed) lines.push(`account "${f.account}": could not check the plans: ${f.error}`);
  return { ok: report.unknown.length === 0 && report.failed.length === 0, report, lines };
}
