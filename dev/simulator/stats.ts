/** Request counters of the simulator's API (the control API is not counted). */

export interface SimStats {
  /** API requests received. */
  requests: number;
  /** By action (`(none)` when the request named none). */
  byAction: Record<string, number>;
  /** `ok`, or the error code answered (gateway Code, business ErrCode, `timeout`, `malformed`). */
  byOutcome: Record<string, number>;
  /** By BackupPlanId parameter. */
  byPlan: Record<string, number>;
  /** Requests per epoch second (key: the second as a string); the last hour is kept. */
  perSecond: Record<string, number>;
  /** Highest count in one epoch second since the last reset. */
  maxPerSecond: number;
}

const KEEP_SECONDS = 3600;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

export class StatsRecorder {
  private s: SimStats = StatsRecorder.empty();

  private static empty(): SimStats {
    return { requests: 0, byAction: {}, byOutcome: {}, byPlan: {}, perSecond: {}, maxPerSecond: 0 };
  }

  /** Counts an arriving request. */
  request(nowMs: number, action: string | undefined, planId: string | undefined): void {
    const s = this.s;
    s.requests++;
    bump(s.byAction, action || '(none)');
    if (planId) bump(s.byPlan, planId);
    const second = Math.floor(nowMs / 1000);
    const key = String(second);
    bump(s.perSecond, key);
    s.maxPerSecond = Math.max(s.maxPerSecond, s.perSecond[key] ?? 0);
    const keys = Object.keys(s.perSecond);
    if (keys.length > KEEP_SECONDS) {
      for (const k of keys) if (Number(k) <= second - KEEP_SECONDS) delete s.perSecond[k];
    }
  }

  outcome(code: string): void {
    bump(this.s.byOutcome, code);
  }

  snapshot(): SimStats {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = StatsRecorder.empty();
  }
}
