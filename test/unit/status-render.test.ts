/**
 * The status screen, pure: named reports in, text out. What an operator must
 * be able to read at a glance, and that hostile names cannot drive the terminal.
 */
import { describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/status/render-text.js';
import { describeFailedJob, type PlanStatus, planHealth, QUEUE_STATES, type QueueDepths, type StatusReport } from '../../src/status/report.js';
import { relativeTime, terminalText } from '../../src/text/terminal.js';

const NOW = Date.UTC(2024, 5, 1, 3, 0, 0);
const emptyDepths = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as QueueDepths;

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    generatedAt: NOW,
    redis: { url: 'redis://redis:6379', prefix: 'dbswatch' },
    plans: [],
    queues: { poll: emptyDepths, notify: emptyDepths },
    failedNotifications: [],
    recentTransitions: [],
    ...overrides,
  };
}

const healthyPlan: PlanStatus = {
  id: 'dbs1hvd0ud7xxxx',
  name: 'Prod MySQL',
  intervalMs: 60_000,
  discovered: false,
  health: 'ok',
  lastPollAt: NOW - 12_000,
  lastSuccessAt: NOW - 12_000,
  taskCount: 42,
  byStatus: { finish: 40, running: 2 },
};

const failingPlan: PlanStatus = {
  id: 'dbs2failing',
  name: 'dbs2failing',
  intervalMs: 300_000,
  discovered: true,
  health: 'failing',
  lastPollAt: NOW - 180_000,
  lastSuccessAt: NOW - 7_200_000,
  taskCount: 3,
  byStatus: { stop: 1, finish: 2 },
  lastError: 'DBS throttled the request (Throttling.User); retrying',
  lastErrorAt: NOW - 180_000,
};

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('renderStatusText', () => {
  it('says plainly when no plans are configured and nothing has failed', () => {
    const text = renderStatusText(report(), NOW);
    expect(text).toContain('dbswatch status — 2024-06-01T03:00:00.000Z — redis redis://redis:6379 (prefix dbswatch)');
    expect(text).toContain('PLANS: no plans configured');
    expect(text).toContain('FAILED NOTIFICATIONS: none');
    expect(text).toContain('RECENT TRANSITIONS: none recorded yet');
    expect(text).toMatch(/^ {2}poll +0 +0/m);
  });

  it('shows a healthy plan with relative times, interval and tasks by status', () => {
    const text = renderStatusText(report({ plans: [healthyPlan] }), NOW);
    expect(text).toContain('PLANS (1; all healthy or pending)');
    const row = text.split('\n').find((line) => line.includes('Prod MySQL'));
    expect(row).toBeDefined();
    expect(row).toMatch(/^ {2}ok +Prod MySQL \(dbs1hvd0ud7xxxx\) +1m +12s ago +12s ago +42 +finish 40, running 2$/);
  });

  it('flags a failing plan and prints its last error and when', () => {
    const text = renderStatusText(report({ plans: [healthyPlan, failingPlan] }), NOW);
    expect(text).toContain('PLANS (2; 1 need attention)');
    const lines = text.split('\n');
    const row = lines.findIndex((line) => line.includes('dbs2failing'));
    expect(lines[row]).toMatch(/^ {2}FAILING +dbs2failing \[discovered\] +5m +3m ago +2h ago +3 +finish 2, stop 1$/);
    expect(lines[row + 1]).toBe('      ↳ last error 3m ago: DBS throttled the request (Throttling.User); retrying');
  });

  it('explains a stale plan and a pending one', () => {
    const stale: PlanStatus = { ...healthyPlan, id: 'dbs3', name: 'dbs3', health: 'stale', lastPollAt: NOW - 600_000, lastSuccessAt: NOW - 600_000 };
    const pending: PlanStatus = {
      ...healthyPlan,
      id: 'dbs4',
      name: 'dbs4',
      health: 'pending',
      lastPollAt: undefined,
      lastSuccessAt: undefined,
      taskCount: undefined,
      byStatus: {},
    };
    const text = renderStatusText(report({ plans: [stale, pending] }), NOW);
    expect(text).toContain('↳ no successful poll for 10m (interval 1m)');
    expect(text).toMatch(/^ {2}pending +dbs4 +1m +never +never +- +-$/m);
  });

  it('lists failed notifications with channel, events, task names, attempts and reason', () => {
    const text = renderStatusText(
      report({
        queues: { poll: emptyDepths, notify: { ...emptyDepths, failed: 120 } },
        failedNotifications: [
          {
            id: 'dbs1.task-9.3-finish.ops-slack',
            channel: 'ops-slack',
            failedReason: 'Slack answered 404 no_service: the webhook was revoked',
            attemptsMade: 1,
            failedAt: NOW - 3_600_000,
            events: ['finished'],
            plans: ['Prod MySQL'],
            tasks: ['nightly-full', 'inc-1', 'inc-2', 'inc-3'],
          },
        ],
      }),
      NOW,
    );
    expect(text).toContain('FAILED NOTIFICATIONS (newest 1 of 120; they will not be retried on their own)');
    expect(text).toContain('  1h ago  → ops-slack  finished  Prod MySQL: nightly-full, inc-1, inc-2 +1 more');
    expect(text).toContain('      ↳ after 1 attempt: Slack answered 404 no_service: the webhook was revoked');
    expect(text).toContain('        job dbs1.task-9.3-finish.ops-slack');
    expect(text).toMatch(/^ {2}notify( +0){5} +120 +0$/m);
  });

  it('prints hostile names and messages as plain text: no escape sequences, no line breaks, no bidi overrides', () => {
    const hostile = '\u001b[2J\u001b]0;pwned\u0007evil\r\nFAKE LINE\u202egnp.exe\u009b31m';
    const text = renderStatusText(
      report({
        plans: [{ ...failingPlan, name: hostile, lastError: hostile }],
        failedNotifications: [
          { id: 'x', channel: 'c', failedReason: hostile, attemptsMade: 2, failedAt: NOW, events: ['failed'], plans: [hostile], tasks: [hostile] },
        ],
        recentTransitions: [
          {
            id: '1-0',
            planId: 'p',
            planName: hostile,
            taskId: 't',
            taskName: hostile,
            event: 'finished',
            from: 'running',
            to: 'finish',
            seq: 2,
            at: NOW - 5_000,
            hadLinks: true,
          },
        ],
      }),
      NOW,
    );
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('evil FAKE LINE gnp.exe');
    // The injected "line" never starts a line of its own.
    expect(text.split('\n').some((line) => line.startsWith('FAKE LINE'))).toBe(false);
  });

  it('shows recent transitions newest first, at most 10, pointing to --json for the rest', () => {
    const transitions = Array.from({ length: 12 }, (_, i) => ({
      id: `${i}-0`,
      planId: 'dbs1',
      planName: 'Prod MySQL',
      taskId: `task-${i}`,
      taskName: `backup-${i}`,
      event: 'finished',
      from: 'running',
      to: 'finish',
      seq: 2,
      at: NOW - (i + 1) * 1_000,
      hadLinks: true,
    }));
    const text = renderStatusText(report({ recentTransitions: transitions }), NOW);
    expect(text).toContain('RECENT TRANSITIONS (newest 10 of 12; --json for all)');
    expect(text).toMatch(/^ {2}1s ago +finished +Prod MySQL +backup-0 +running → finish$/m);
    expect(text).toContain('backup-9');
    expect(text).not.toContain('backup-10');
  });
});

describe('planHealth', () => {
  it.each([
    ['never polled', {}, 'pending'],
    ['polled recently, no error', { lastPollAt: NOW - 5_000, lastSuccessAt: NOW - 5_000 }, 'ok'],
    ['exactly 3 intervals since success', { lastPollAt: NOW, lastSuccessAt: NOW - 180_000 }, 'ok'],
    ['over 3 intervals since success', { lastPollAt: NOW - 200_000, lastSuccessAt: NOW - 180_001 }, 'stale'],
    ['last poll failed', { lastPollAt: NOW, lastSuccessAt: NOW - 60_000, lastError: 'boom', lastErrorAt: NOW }, 'failing'],
    ['never succeeded, failed', { lastPollAt: NOW, lastError: 'boom', lastErrorAt: NOW }, 'failing'],
  ] as const)('%s → %s', (_name, meta, expected) => {
    expect(planHealth(meta, 60_000, NOW)).toBe(expected);
  });
});

describe('relativeTime', () => {
  it.each([
    [undefined, 'never'],
    [NOW - 400, 'just now'],
    [NOW - 12_000, '12s ago'],
    [NOW - 125_000, '2m ago'],
    [NOW - 3 * 3_600_000, '3h ago'],
    [NOW - 2 * 86_400_000, '2d ago'],
    [NOW + 5_000, 'in 5s'],
  ] as const)('%s → %s', (at, expected) => {
    expect(relativeTime(at, NOW)).toBe(expected);
  });
});

describe('terminalText', () => {
  it('cuts long text with an ellipsis', () => {
    expect(terminalText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('describeFailedJob', () => {
  it('keeps ids, names, events and the reason; never the signed URLs the payload carries', () => {
    const url = 'https://dbs-download.oss-cn-hangzhou.aliyuncs.com/backup.tar.gz?Expires=1&OSSAccessKeyId=AK&Signature=s3cr3t';
    const failed = describeFailedJob({
      id: 'n1',
      data: {
        v: 1,
        channel: 'ops-mail',
        notifications: [
          {
            id: 'n1',
            event: 'finished',
            plan: { id: 'dbs1', name: 'Prod MySQL' },
            task: { taskId: 'task-1', planId: 'dbs1', status: 'finish', name: 'nightly', internetUrl: url, intranetUrl: url },
            seq: 3,
            detectedAt: NOW,
          },
        ],
      },
      failedReason: `SMTP 550 rejected, see ${url}`,
      attemptsMade: 1,
      finishedOn: NOW,
    });
    expect(failed).toEqual({
      id: 'n1',
      channel: 'ops-mail',
      failedReason: 'SMTP 550 rejected, see https://dbs-download.oss-cn-hangzhou.aliyuncs.com/backup.tar.gz?…',
      attemptsMade: 1,
      failedAt: NOW,
      events: ['finished'],
      plans: ['Prod MySQL'],
      tasks: ['nightly'],
    });
    expect(JSON.stringify(failed)).not.toContain('Signature');
  });
});
