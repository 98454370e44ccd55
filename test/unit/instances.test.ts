/**
 * Instances (advanced downloads) in the pure core: config validation with
 * key-named errors, defaults, source-kind namespacing, the state mapping onto
 * the diff's vocabulary, the new events in the diff and in routing, and the
 * messages they render to.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type InstanceConfig, parseConfig } from '../../src/config.js';
import { instanceAsPlan, pipelineStatus, toPipelineTask } from '../../src/dbs2021/pipeline.js';
import type { AdvancedDownloadTask } from '../../src/dbs2021/task.js';
import { planSchedulerId } from '../../src/keys.js';
import { renderEmailSingle } from '../../src/notify/email-render.js';
import type { Notification } from '../../src/notify/event.js';
import { notificationId } from '../../src/notify/event.js';
import { routeEvent } from '../../src/notify/routing.js';
import { renderSlackSingle } from '../../src/notify/slack-render.js';
import { renderStatusText } from '../../src/status/render-text.js';
import type { StatusReport } from '../../src/status/report.js';
import { classify, diff } from '../../src/tracking/diff.js';
import { parseSourceKey, sourceKey, sourceKindOf } from '../../src/tracking/source.js';
import { hourlyBuckets } from '../../src/web/chart.js';
import { renderStatusPage } from '../../src/web/page.js';

const CHANNELS = `
channels:
  ops: { type: slack, webhookUrl: "https://hooks.example.com/services/T/B/X" }
  failures: { type: slack, webhookUrl: "https://hooks.example.com/services/T/B/Y", events: [failed] }
  ready: { type: slack, webhookUrl: "https://hooks.example.com/services/T/B/Z", events: [finished] }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, {});
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('instances: config', () => {
  it('fills the defaults: name = id, defaults.interval/notify, events + expired, linkValidity 24h, expiringNotice 12h', () => {
    const config = parseConfig(`defaults: { notify: [ops] }\ninstances: [ { id: rm-2ze8g2am97624, region: cn-beijing } ]\n${CHANNELS}`, {});
    expect(config.instances).toEqual([
      {
        id: 'rm-2ze8g2am97624',
        region: 'cn-beijing',
        name: 'rm-2ze8g2am97624',
        intervalMs: 60_000,
        notify: ['ops'],
        events: ['finished', 'failed', 'expired'],
        linkValidityMs: 86_400_000,
        expiringNoticeMs: 43_200_000,
      },
    ]);
  });

  it('names every problem by key', () => {
    const found = problems(`
instances:
  - { id: "rm bad", region: cn-beijing }
  - { id: rm-ok1, region: Beijing }
  - { id: rm-ok2, region: cn-beijing, linkValidity: 10s }
  - { id: rm-ok3, region: cn-beijing, linkValidity: 2d }
  - { id: rm-ok4, region: cn-beijing, notify: [pager] }
  - { id: rm-ok4, region: cn-beijing }
  - { id: rm-ok5, region: cn-beijing, interval: 1s }
  - { id: rm-ok6, region: cn-beijing, events: [finished, exploded] }
  - { id: rm-ok7 }
  - { id: rm-ok8, region: cn-beijing, colour: red }
${CHANNELS}`);
    const expected = [
      'instances[0].id: is not a database instance id',
      'instances[1].region: is not a region code',
      'instances[2].linkValidity: must be between 5m (300s) and 24h',
      'instances[3].linkValidity:',
      'instances[4].notify[0]: unknown channel "pager"',
      'instances[5].id: duplicate instance id "rm-ok4" (also instances[4])',
      'instances[6].interval: must be at least 5s',
      'instances[7].events[1]:',
      'instances[8].region: is required',
      'instances[9]: unknown key "colour"',
    ];
    for (const problem of expected)
      expect(
        found.some((p) => p.startsWith(problem)),
        `${problem}\n${found.join('\n')}`,
      ).toBe(true);
  });

  it('a plan and an instance may share an id', () => {
    const config = parseConfig(`plans: [ { id: rm-same1 } ]\ninstances: [ { id: rm-same1, region: cn-hangzhou } ]\n${CHANNELS}`, {});
    expect(config.plans[0]?.id).toBe('rm-same1');
    expect(config.instances[0]?.id).toBe('rm-same1');
  });
});

describe('source keys', () => {
  it('keep plan ids byte-identical and put instances behind a marker no plan id can hold', () => {
    expect(sourceKey('plan', 'dbsplan00001')).toBe('dbsplan00001');
    expect(sourceKey('instance', 'dbsplan00001')).toBe('instance!dbsplan00001');
    expect(parseSourceKey('instance!rm-1')).toEqual({ kind: 'instance', id: 'rm-1' });
    expect(parseSourceKey('rm-1')).toEqual({ kind: 'plan', id: 'rm-1' });
    expect(sourceKindOf('instance!')).toBe('plan');
  });

  it('give a plan and an instance with the same id different scheduler ids and notification ids', () => {
    const plan = sourceKey('plan', 'rm-same1');
    const instance = sourceKey('instance', 'rm-same1');
    expect(planSchedulerId(plan)).toBe('plan.rm-same1');
    expect(planSchedulerId(instance)).not.toBe(planSchedulerId(plan));
    expect(notificationId(plan, 'dt-1', 2, 'finish', 'ops')).toBe('rm-same1.dt-1.2-finish.ops');
    expect(notificationId(instance, 'dt-1', 2, 'finish', 'ops')).not.toBe(notificationId(plan, 'dt-1', 2, 'finish', 'ops'));
    expect(notificationId(instance, 'dt-1', 2, 'finish', 'ops')).not.toContain(':');
  });
});

const instance: InstanceConfig = {
  id: 'rm-1',
  region: 'cn-hangzhou',
  name: 'orders db',
  intervalMs: 60_000,
  notify: ['ops'],
  events: ['finished', 'failed', 'expired', 'expiring'],
  linkValidityMs: 7_200_000,
  expiringNoticeMs: 12 * 3_600_000,
};
const HOUR = 3_600_000;
const T = 1_800_000_000_000;

describe('pipelineStatus', () => {
  const task = (status: string, extra: Partial<AdvancedDownloadTask> = {}): AdvancedDownloadTask => ({ taskId: 'dt-1', status, targetType: 'URL', ...extra });
  const on = { enabled: true, noticeMs: 12 * HOUR };
  it.each([
    ['initializing', T, undefined, 'initializing'],
    ['queueing', T, undefined, 'queueing'],
    ['running', T, undefined, 'running'],
    ['failed', T, undefined, 'stop'],
    ['expired', T, undefined, 'expired'],
    ['paused', T, undefined, 'paused'],
    ['finished', T, T, 'finish'],
    ['finished', T + 59 * HOUR, T, 'finish'],
    ['finished', T + 60 * HOUR, T, 'expiring'],
    // Never seen finishing (no time recorded): no estimate, no warning.
    ['finished', T + 70 * HOUR, undefined, 'finish'],
  ])('%s at +%d with finishedSeenAt %s → %s', (status, now, seen, expected) => {
    expect(pipelineStatus(task(status), now, on, seen)).toBe(expected);
  });

  it('no expiring for OSS targets or when the instance did not opt in', () => {
    expect(pipelineStatus(task('finished', { targetType: 'OSS' }), T + 70 * HOUR, on, T)).toBe('finish');
    expect(pipelineStatus(task('finished'), T + 70 * HOUR, { enabled: false, noticeMs: 12 * HOUR }, T)).toBe('finish');
  });
});

describe('the diff with mapped statuses', () => {
  it.each([
    [undefined, 'initializing', 'progress'],
    ['initializing', 'queueing', 'progress'],
    ['running', 'finish', 'finished'],
    ['running', 'stop', 'failed'],
    ['finish', 'expiring', 'expiring'],
    ['expiring', 'expired', 'expired'],
    ['finish', 'expired', 'expired'],
    ['stop', 'initializing', 'progress'],
  ])('%s → %s raises %s', (from, to, event) => {
    expect(classify(from, to)).toBe(event);
  });

  it('an instance baseline stays silent even for expired tasks', () => {
    const result = diff(
      new Map(),
      [
        { taskId: 'dt-1', status: 'expired' },
        { taskId: 'dt-2', status: 'finish' },
      ],
      {
        baselineDone: false,
        notifyOnFirstSight: true,
        forgetAfterMissedPolls: 3,
      },
    );
    expect(result.transitions.map((t) => t.taskId)).toEqual(['dt-2']);
  });
});

describe('routing of the new events', () => {
  const config = parseConfig(
    `instances: [ { id: rm-1, region: cn-hangzhou, notify: [ops, failures, ready], events: [finished, failed, expired, expiring] } ]\n${CHANNELS}`,
    {},
  );
  const plan = instanceAsPlan(config.instances[0] as InstanceConfig);
  it.each([
    ['finished', ['ops', 'ready']],
    ['failed', ['ops', 'failures']],
    // expired goes wherever finished goes.
    ['expired', ['ops', 'ready']],
    ['expiring', ['ops']],
  ] as const)('%s → %j', (event, channels) => {
    expect(routeEvent(config, plan, event).map((c) => c.name)).toEqual(channels);
  });

  it('an instance that lists no expired gets none', () => {
    const quiet = instanceAsPlan({ ...(config.instances[0] as InstanceConfig), events: ['finished'] });
    expect(routeEvent(config, quiet, 'expired')).toEqual([]);
  });
});

describe('messages', () => {
  const base = (event: Notification['event'], status: string, extra: Partial<AdvancedDownloadTask> = {}): Notification => {
    const task = toPipelineTask({ taskId: 'dt-abc', status, targetType: 'URL', region: 'cn-hangzhou', createdAt: T, ...extra }, instance, T + HOUR, T + HOUR);
    return {
      id: `instance!rm-1.dt-abc.2-${task.status}.ops`,
      event,
      plan: { id: sourceKey('instance', 'rm-1'), name: 'orders db' },
      task,
      seq: 2,
      detectedAt: T + 2 * HOUR,
    };
  };

  it('finished: links with their expiry, the instance named as an instance', () => {
    const n = base('finished', 'finished');
    const withLinks = { ...n, task: { ...n.task, internetUrl: 'https://b.example/dt-abc/f?Expires=1&Signature=s', linksExpireAt: T + 3 * HOUR } };
    const slack = JSON.stringify(renderSlackSingle(withLinks));
    expect(slack).toContain('in instance *orders db*');
    expect(slack).toContain('Links valid until*\\n2027-01-15 11:00:00 UTC');
    expect(slack).toContain('https://b.example/dt-abc/f?Expires=1');
    const email = renderEmailSingle(withLinks);
    expect(email.text).toContain('Instance: orders db (rm-1)');
    expect(email.text).toContain('Links valid until: 2027-01-15 11:00:00 UTC');
  });

  it('finished OSS target: the bucket path instead of links', () => {
    const slack = JSON.stringify(renderSlackSingle(base('finished', 'finished', { targetType: 'OSS', targetPath: 'exports/x' })));
    expect(slack).toContain('your OSS bucket, path exports/x');
    expect(slack).not.toContain('Links valid until');
  });

  it('expired and expiring open with their sentence', () => {
    const expired = renderEmailSingle(base('expired', 'expired'));
    expect(expired.subject).toBe('[dbswatch] Download EXPIRED: dt-abc (orders db)');
    expect(expired.text).toContain('The download of dt-abc (instance orders db) expired before');
    const expiring = JSON.stringify(renderSlackSingle(base('expiring', 'finished')));
    expect(expiring).toContain('Download expiring soon');
    expect(expiring).toContain('expires around 2027-01-18 09:00:00 UTC');
  });

  it('hostile API text (TargetPath, region) is inert in Slack and HTML', () => {
    const n = base('finished', 'finished', { targetType: 'OSS', targetPath: '<!channel> <https://evil.example|click>', region: '<b>x</b>' });
    const slack = JSON.stringify(renderSlackSingle(n));
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('<https://evil.example|click>');
    expect(slack).toContain('&lt;!channel&gt;');
    const email = renderEmailSingle(n);
    expect(email.html).not.toContain('<b>x</b>');
    expect(email.html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('failed: says DBS gives no reason and how to retry', () => {
    const slack = JSON.stringify(renderSlackSingle(base('failed', 'failed')));
    expect(slack).toContain('dbswatch retry-download dt-abc --instance rm-1 --yes');
  });
});

describe('status surfaces', () => {
  const NOW = Date.UTC(2026, 11, 1, 12, 0);
  const depths = { waiting: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0, failed: 0, completed: 0 };
  const report: StatusReport = {
    generatedAt: NOW,
    redis: { url: 'redis://127.0.0.1:6379', prefix: 'dbswatch' },
    plans: [
      { id: 'rm-same1', name: 'orders plan', intervalMs: 60_000, discovered: false, health: 'ok', lastSuccessAt: NOW - 1000, byStatus: { finish: 1 } },
      {
        id: sourceKey('instance', 'rm-same1'),
        name: 'orders db',
        intervalMs: 60_000,
        discovered: false,
        source: 'instance',
        health: 'ok',
        lastSuccessAt: NOW - 1000,
        byStatus: { finish: 1, queueing: 2 },
      },
    ],
    queues: { poll: depths, notify: depths },
    failedNotifications: [],
    recentTransitions: [],
  };

  it('the text status marks the instance beside the plan', () => {
    const lines = renderStatusText(report, NOW).split('\n');
    expect(lines.filter((l) => l.includes('[instance]'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('[instance]'))).toContain('orders db');
    expect(lines.some((l) => l.includes('orders plan') && !l.includes('[instance]'))).toBe(true);
  });

  it('the status page marks the instance beside the plan', () => {
    const html = renderStatusPage(
      { report, transitions: [], filter: {}, channels: [], channelsCapped: false, chart: hourlyBuckets([], NOW), actionsEnabled: false },
      { now: NOW, nonce: 'n0nce' },
    );
    expect(html).toContain('<strong>orders db</strong> <span class="muted">(instance)</span>');
    expect(html).not.toContain('<strong>orders plan</strong> <span class="muted">(instance)</span>');
  });
});
