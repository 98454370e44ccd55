import { describe, expect, it } from 'vitest';
import { type ReminderFacts, reminderDecision, reminderJobs, reminderNotification } from '../../src/alerting/reminders.js';
import { parseConfig } from '../../src/config.js';
import { sampleNotification } from '../../src/notify/sample.js';

const HOUR = 3_600_000;

function config(extra = '') {
  return parseConfig(
    `
defaults: { notify: [ops, mail], remind: { every: 4h, times: 3 } }
plans:
  - { id: p1 }
  - { id: p2, remind: { every: 1h, times: 1 } }
channels:
  ops: { type: slack, webhookUrl: "https://hooks.example/x" }
  mail: { type: email, host: smtp.example, from: a@example.com, to: [b@example.com], remind: { every: 2h, times: 0 } }
${extra}`,
    {},
  );
}

describe('reminderJobs', () => {
  const c = config();
  const plan = c.plans[0]!;
  const failed = { ...sampleNotification('failed', 'ops'), detectedAt: 1_000_000 };
  const finished = sampleNotification('finished', 'ops');

  it('schedules one job per slot for a failure, with ids from (notification, slot)', () => {
    const jobs = reminderJobs(c, plan, [{ data: { v: 1, channel: 'ops', notifications: [failed, finished] } }], 1_000_000);
    expect(jobs.map((j) => j.jobId)).toEqual([`${failed.id}.r1`, `${failed.id}.r2`, `${failed.id}.r3`]);
    expect(jobs.map((j) => j.delayMs)).toEqual([4 * HOUR, 8 * HOUR, 12 * HOUR]);
    expect(jobs[1]?.data.notifications[0]?.reminder).toEqual({ n: 2, times: 3, originalId: failed.id, firstAt: 1_000_000 });
    // Same input → same ids: BullMQ ignores the second add, so a slot exists once.
    expect(reminderJobs(c, plan, [{ data: { v: 1, channel: 'ops', notifications: [failed] } }], 1_000_000).map((j) => j.jobId)).toEqual(
      jobs.map((j) => j.jobId),
    );
  });

  it('channel remind overrides the plan (times: 0 turns it off for that channel)', () => {
    expect(reminderJobs(c, plan, [{ data: { v: 1, channel: 'mail', notifications: [failed] } }], 0)).toEqual([]);
  });

  it('plan remind overrides the defaults', () => {
    const jobs = reminderJobs(c, c.plans[1]!, [{ data: { v: 1, channel: 'ops', notifications: [failed] } }], 1_000_000);
    expect(jobs.map((j) => j.delayMs)).toEqual([HOUR]);
  });

  it('is off by default', () => {
    const off = parseConfig('defaults: { notify: [ops] }\nplans: [{ id: p1 }]\nchannels: { ops: { type: slack, webhookUrl: "https://hooks.example/x" } }', {});
    expect(reminderJobs(off, off.plans[0]!, [{ data: { v: 1, channel: 'ops', notifications: [failed] } }], 0)).toEqual([]);
  });

  it('drops download links from the reminder payload', () => {
    const withLink = { ...failed, task: { ...failed.task, internetUrl: 'https://oss.example/x?Signature=s' } };
    expect(reminderNotification(withLink, 1, 3).task.internetUrl).toBeUndefined();
  });
});

describe('reminderDecision', () => {
  const original = sampleNotification('failed', 'ops', { seq: 4 });
  const reminder = reminderNotification({ ...original, detectedAt: 1000 }, 2, 3);
  const due: ReminderFacts = { acknowledged: false, trackedSeq: 4, backupSetDoneAt: undefined, remind: { every: HOUR, times: 3 } };
  it.each([
    ['still failing → due', due, { due: true }],
    ['acknowledged', { ...due, acknowledged: true }, { due: false, reason: 'acknowledged' }],
    ['task changed status since', { ...due, trackedSeq: 5 }, { due: false, reason: 'task-changed' }],
    ['task no longer listed', { ...due, trackedSeq: undefined }, { due: false, reason: 'task-gone' }],
    ['a later download of the backup set finished', { ...due, backupSetDoneAt: 2000 }, { due: false, reason: 'backup-set-downloaded' }],
    ['an older finished download does not resolve it', { ...due, backupSetDoneAt: 500 }, { due: true }],
    ['reminders turned off since', { ...due, remind: undefined }, { due: false, reason: 'reminders-off' }],
    ['fewer reminders configured since', { ...due, remind: { every: HOUR, times: 1 } }, { due: false, reason: 'reminders-off' }],
  ])('%s', (_name, facts, expected) => expect(reminderDecision(reminder, facts as ReminderFacts)).toEqual(expected));
});
