/**
 * Fault injection: each fault answers the next `count` matching API requests
 * (optionally only those for one action, plan or page) instead of, or before,
 * the normal answer. Faults are checked in the order they were injected; one
 * request consumes at most one fault.
 */

export type FaultKind = 'throttle' | 'unavailable' | 'internal' | 'timeout' | 'malformed' | 'shift' | 'business-error' | 'raw';

export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'unavailable', 'internal', 'timeout', 'malformed', 'shift', 'business-error', 'raw'];

export type FaultSpec = {
  kind: FaultKind;
  /** How many matching requests it answers. */
  count: number;
  /** Only requests for this BackupPlanId. */
  planId?: string;
  /** Only requests for this (0-based) PageNum; an absent PageNum counts as 0. */
  pageNum?: number;
  /** Only requests for this action. */
  action?: string;
  /** `timeout`: how long to hold the response. Default 10 000 ms. */
  delayMs?: number;
  /** `timeout`: after the delay, `destroy` the socket (default) or `answer` normally. */
  afterDelay?: 'destroy' | 'answer';
  /** `shift`: how many new tasks to add before answering. Default 1. */
  shiftBy?: number;
  /** `business-error`: the ErrCode. Default `InternalError`. */
  errCode?: string;
  /** `business-error`: the ErrMessage. */
  errMessage?: string;
  /**
   * `business-error`: the body's `HttpStatusCode` while the transport status stays 200 (documented: DBS
   * business errors arrive on HTTP 200 with the real status in the body). Default 200; 403 for
   * `Request.Forbidden`, 400 for the parameter codes.
   */
  bodyStatus?: number;
  /** `throttle`: TimeLeft in the rate-limit header. Default 1 000 ms. */
  timeLeftMs?: number;
  /** `malformed`: a truncated JSON body (default), an HTML page, or an empty body. */
  variant?: 'truncated' | 'html' | 'empty';
  /** `raw`: the exact response body to send (hostile-input tests). Default: empty. */
  body?: string;
  /** `raw`: HTTP status. Default 200. */
  status?: number;
  /** `raw`: content type. Default `application/json;charset=utf-8`. */
  contentType?: string;
};

export interface FaultTarget {
  action: string;
  planId?: string;
  pageNum: number;
}

/** Validates a fault spec from outside (control API); returns a problem or undefined. */
export function faultProblem(spec: unknown): string | undefined {
  if (!spec || typeof spec !== 'object') return 'a fault must be an object';
  const f = spec as Record<string, unknown>;
  if (!FAULT_KINDS.includes(f.kind as FaultKind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  if (!Number.isInteger(f.count) || (f.count as number) < 1) return 'count must be a positive integer';
  if (f.planId !== undefined && typeof f.planId !== 'string') return 'planId must be a string';
  if (f.action !== undefined && typeof f.action !== 'string') return 'action must be a string';
  if (f.pageNum !== undefined && (!Number.isInteger(f.pageNum) || (f.pageNum as number) < 0)) {
    return 'pageNum must be a non-negative integer';
  }
  if (f.body !== undefined && typeof f.body !== 'string') return 'body must be a string';
  if (f.contentType !== undefined && typeof f.contentType !== 'string') return 'contentType must be a string';
  if (f.status !== undefined && (!Number.isInteger(f.status) || (f.status as number) < 100 || (f.status as number) > 599)) {
    return 'status must be an HTTP status (100-599)';
  }
  if (f.bodyStatus !== undefined && (!Number.isInteger(f.bodyStatus) || (f.bodyStatus as number) < 100 || (f.bodyStatus as number) > 599)) {
    return 'bodyStatus must be an HTTP status (100-599)';
  }
  for (const key of ['delayMs', 'shiftBy', 'timeLeftMs'] as const) {
    if (f[key] !== undefined && (!Number.isInteger(f[key]) || (f[key] as number) < 0)) {
      return `${key} must be a non-negative integer`;
    }
  }
  return undefined;
}

export class FaultQueue {
  private faults: Array<FaultSpec & { remaining: number }> = [];

  add(spec: FaultSpec): void {
    const problem = faultProblem(spec);
    if (problem) throw new Error(`invalid fault: ${problem}`);
    this.faults.push({ ...spec, remaining: spec.count });
  }

  clear(): void {
    this.faults = [];
  }

  /** Pending faults with what is left of their count. */
  list(): Array<FaultSpec & { remaining: number }> {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first fault matching the request, with one use consumed; undefined when none. */
  take(target: FaultTarget): FaultSpec | undefined {
    const index = this.faults.findIndex(
      (f) =>
        (f.action === undefined || f.action === target.action) &&
        (f.planId === undefined || f.planId === target.planId) &&
        (f.pageNum === undefined || f.pageNum === target.pageNum),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    const { remaining: _, ...spec } = fault;
    return spec;
  }
}
