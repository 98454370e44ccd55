import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

const base = `
defaults: { notify: [ops] }
plans: [ { id: dbsplan00001 } ]
channels:
  ops: { type: slack, webhookUrl: "https://hooks.example/x" }
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

describe('alerting config', () => {
  it('fills defaults: UTC, en, no reminders, no silences, watchdog off', () => {
    const config = parseConfig(base, {});
    expect(config.channels.ops).toMatchObject({ timezone: 'UTC', locale: 'en' });
    expect(config.plans[0]?.remind).toBeUndefined();
    expect(config.silences).toEqual([]);
    expect(config.watchdog).toEqual({ notify: [], failingAfter: 3, recoverAfter: 2, staleAfterIntervals: 3 });
  });

  it('reads every key', () => {
    const config = parseConfig(
      `
defaults: { notify: [ops], remind: { every: 4h, times: 3 } }
plans: [ { id: p1, remind: { every: 1h, times: 1 } }, { id: p2 } ]
channels:
  ops: { type: slack, webhookUrl: "https://hooks.example/x", timezone: Asia/Shanghai, locale: zh-CN, remind: { every: 2h, times: 2 } }
silences:
  - { plans: ["p*"], events: [failed, plan-stale], channels: [ops], from: "2026-05-01T22:00:00+08:00", until: "2026-05-02T06:00:00+08:00", reason: migration }
  - { weekly: { days: [sat, sun], start: "22:00", end: "06:00", timezone: Asia/Shanghai }, reason: weekend maintenance, replay: true }
watchdog: { notify: [ops], failingAfter: 5, recoverAfter: 1, staleAfterIntervals: 4 }
`,
      {},
    );
    expect(config.plans.map((p) => p.remind)).toEqual([
      { every: 3_600_000, times: 1 },
      { every: 14_400_000, times: 3 },
    ]);
    expect(config.channels.ops).toMatchObject({ timezone: 'Asia/Shanghai', locale: 'zh-CN', remind: { every: 7_200_000, times: 2 } });
    expect(config.silences[0]).toMatchObject({ from: Date.parse('2026-05-01T14:00:00Z'), until: Date.parse('2026-05-01T22:00:00Z'), replay: false });
    expect(config.silences[1]?.weekly).toEqual({ days: ['sat', 'sun'], start: '22:00', end: '06:00', timezone: 'Asia/Shanghai' });
    expect(config.watchdog).toEqual({ notify: ['ops'], failingAfter: 5, recoverAfter: 1, staleAfterIntervals: 4 });
  });

  it.each([
    [
      'an unknown time zone',
      'channels: { ops: { type: slack, webhookUrl: "https://hooks.example/x", timezone: Mars/Olympus } }',
      'channels.ops.timezone: is not an IANA time zone name',
    ],
    [
      'an unknown locale',
      'channels: { ops: { type: slack, webhookUrl: "https://hooks.example/x", locale: fr } }',
      'channels.ops.locale: must be one of en, zh-CN',
    ],
    ['a bad remind duration', 'defaults: { notify: [ops], remind: { every: soon, times: 3 } }', 'defaults.remind.every'],
    ['a silence that never ends', 'silences: [ { plans: [p1], reason: forever } ]', 'silences[0]: needs "until" or "weekly"'],
    ['a silence without a reason', 'silences: [ { until: "2026-01-01T00:00:00Z" } ]', 'silences[0].reason'],
    [
      'a silence ending before it starts',
      'silences: [ { from: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z", reason: x } ]',
      'silences[0].until: must be after "from"',
    ],
    ['a bad weekly time', 'silences: [ { weekly: { days: [mon], start: "25:00", end: "06:00" }, reason: x } ]', 'silences[0].weekly.start: must be HH:MM'],
    [
      'a silence naming an unknown channel',
      'silences: [ { channels: [pager], until: "2026-01-01T00:00:00Z", reason: x } ]',
      'silences[0].channels[0]: unknown channel "pager"',
    ],
    ['a watchdog channel that does not exist', 'watchdog: { notify: [ops-slack] }', 'watchdog.notify[0]: unknown channel "ops-slack"'],
    ['an unknown watchdog key', 'watchdog: { failAfter: 3 }', 'watchdog: unknown key "failAfter"'],
  ])('rejects %s, naming the key', (_name, extra, expected) => {
    const merged = extra.startsWith('channels:')
      ? `defaults: { notify: [ops] }\nplans: [ { id: p1 } ]\n${extra}`
      : extra.startsWith('defaults:')
        ? `${extra}\nplans: [ { id: p1 } ]\nchannels: { ops: { type: slack, webhookUrl: "https://hooks.example/x" } }`
        : `${base}\n${extra}`;
    expect(problems(merged).join('\n')).toContain(expected);
  });
});
