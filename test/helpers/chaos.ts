/**
 * Chaos and load test helpers: a private `redis-server` that a test may kill
 * and restart (never the shared one), a seeded timeline of download-task
 * lifecycles, and the oracle that compares what the sinks received with the
 * simulator's ledger of status changes.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, redisAnswers } from '../../dev/local-redis.js';
import { mulberry32, type SimEvent, type SimStep, type SimWorld } from '../../dev/simulator/index.js';
import type { ReceivedSlackMessage } from '../../dev/sinks/slack-sink.js';
import type { ReceivedMail } from '../../dev/sinks/smtp-sink.js';
import { holdsWithin } from './wait.js';

// ---------------------------------------------------------------------------
// Private Redis

/**
 * Like `dev/local-redis.ts`'s private Redis, but it can be *crashed*
 * (SIGKILL, no shutdown save) and counts its starts.
 */
export interface CrashableRedis {
  readonly url: string;
  readonly port: number;
  /** Data directory (AOF lives here when persistent). */
  readonly dir: string;
  /** Times the server was started (1 after start, 2 after one restart). */
  readonly starts: number;
  /** Kills the server (SIGKILL by default: a crash) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** Kills it for good and removes the data directory. */
  close(): Promise<void>;
}

export interface CrashableRedisOptions {
  /**
   * AOF with `appendfsync always`: every acknowledged write survives a crash
   * (SIGKILL) and restart. Without it (`--save "" --appendonly no`) a restart
   * comes back empty — Redis has lost its data.
   */
  readonly persistent: boolean;
}

/** Starts a private redis-server on a free loopback port (never the shared one). */
export async function startCrashableRedis(options: CrashableRedisOptions): Promise<CrashableRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dbswatch-chaos-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('private redis is already running');
    const spawned = spawn('redis-server', args, { stdio: 'ignore' });
    child = spawned;
    exited = new Promise((resolve) => spawned.once('exit', () => resolve()));
    starts += 1;
    // Bounded: 200 × 50 ms. Loading a large AOF takes a moment.
    for (let i = 0; i < 200; i++) {
      if (await redisAnswers(url)) return;
      if (spawned.exitCode !== null) throw new Error(`redis-server exited with ${spawned.exitCode} (port ${port})`);
      await delay(50);
    }
    throw new Error(`private redis-server on port ${port} did not answer`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  await start();
  return {
    url,
    port,
    dir,
    get starts() {
      return starts;
    },
    kill,
    start,
    async close() {
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Seeded timeline

export interface ChaosTimelineOptions {
  readonly planIds: readonly string[];
  /** New tasks per plan, each walking to a terminal state. */
  readonly tasksPerPlan: number;
  /** User retries per plan: stop → (held) → running → finish. */
  readonly retriesPerPlan: number;
  readonly seed: number;
  /** Terminal steps land in [startMs + firstMs, startMs + lastMs] (ms since simulator start). */
  readonly startMs: number;
  readonly firstMs: number;
  readonly lastMs: number;
  /** How long a retried task stays stopped before the user retries it (long enough to be polled several times). */
  readonly retryHoldMs: number;
}

export interface ChaosTimeline {
  /** Every task added, with its scripted steps. */
  readonly tasks: { planId: string; taskId: string; steps: SimStep[] }[];
  /** Notifiable steps scripted (the ledger must end up with exactly these). */
  readonly notifiable: number;
  /** When the last step is due, ms since simulator start. */
  readonly endMs: number;
}

/**
 * Adds `tasksPerPlan` live tasks (status `checking`) to each plan with a
 * seeded lifecycle: mostly checking → check_pass → schedule → running
 * (→ pause → running) → finish; some → stop; some checking → init (failed
 * precheck); and `retriesPerPlan` user retries (stop, then running → finish).
 * Terminal states are held: only a user retry leaves one, after `retryHoldMs`.
 */
export function addChaosTimeline(world: SimWorld, options: ChaosTimelineOptions): ChaosTimeline {
  const rnd = mulberry32(options.seed);
  const span = options.lastMs - options.firstMs;
  const at = (fraction: number) => Math.round(options.startMs + options.firstMs + fraction * span);
  const tasks: ChaosTimeline['tasks'] = [];
  let notifiable = 0;
  let endMs = 0;
  for (const planId of options.planIds) {
    for (let i = 0; i < options.tasksPerPlan; i++) {
      const retry = i < options.retriesPerPlan;
      const steps: SimStep[] = [];
      if (retry) {
        // Stop in the first third, hold, then the user retries it to a finish.
        const stopAt = at(rnd() * 0.3);
        const lead = 600 + Math.floor(rnd() * 1500);
        steps.push({ atMs: stopAt - 3 * lead, status: 'check_pass' }, { atMs: stopAt - 2 * lead, status: 'schedule' });
        steps.push({ atMs: stopAt - lead, status: 'running' });
        steps.push({ atMs: stopAt, status: 'stop', errMessage: 'backup gateway offline: agent heartbeat lost for 600s' });
        const again = stopAt + options.retryHoldMs;
        steps.push({ atMs: again, status: 'running' }, { atMs: again + 3_000 + Math.floor(rnd() * 4_000), status: 'finish' });
        notifiable += 2;
      } else {
        const end = at(rnd());
        const r = rnd();
        if (r < 0.07) {
          steps.push({ atMs: end, status: 'init', errMessage: 'precheck failed: source backup set is not in a downloadable state' });
        } else {
          // Intermediate steps spread over the few seconds before the end (some within one poll interval).
          const lead = 300 + Math.floor(rnd() * 3_000);
          const path = ['check_pass', 'schedule', 'running'];
          if (rnd() < 0.1) path.push('pause', 'running');
          path.forEach((status, k) => {
            steps.push({ atMs: Math.max(options.startMs + 1, end - (path.length - k) * lead), status });
          });
          steps.push(r < 0.17 ? { atMs: end, status: 'stop', errMessage: 'disk full: no space left on device' } : { atMs: end, status: 'finish' });
        }
        notifiable += 1;
      }
      const task = world.addTask(planId, { status: 'checking', steps });
      tasks.push({ planId, taskId: task.BackupSetDownloadTaskId, steps });
      endMs = Math.max(endMs, ...steps.map((s) => s.atMs));
    }
  }
  return { tasks, notifiable, endMs };
}

// ---------------------------------------------------------------------------
// The oracle

/** The events dbswatch notifies by default: → finish, → stop, checking → init. */
export function isNotifiable(event: Pick<SimEvent, 'from' | 'to'>): 'finished' | 'failed' | undefined {
  if (event.to === 'finish') return 'finished';
  if (event.to === 'stop') return 'failed';
  if (event.to === 'init' && event.from === 'checking') return 'failed';
  return undefined;
}

export interface ParsedId {
  readonly id: string;
  readonly planId: string;
  readonly taskId: string;
  readonly seq: number;
  readonly status: string;
  readonly channel: string;
}

const ID_PATTERN = /^([^.\s]+)\.([^.\s]+)\.(\d+)-([^.\s]+)\.([^.\s]+)$/;

/** `plan.task.seq-status.channel` → its parts (plan, task and channel ids of the test hold no dots). */
export function parseNotificationId(id: string): ParsedId | undefined {
  const m = ID_PATTERN.exec(id);
  if (!m) return undefined;
  return { id, planId: m[1]!, taskId: m[2]!, seq: Number(m[3]), status: m[4]!, channel: m[5]! };
}

/** Notification ids a Slack message carries: `notification <id>` (single) or `notifications <id> <id>…` (digest) in its context. */
export function slackMessageIds(message: ReceivedSlackMessage): string[] {
  const body = message.body as { blocks?: { type: string; elements?: { text?: string }[] }[] };
  const ids: string[] = [];
  let inList = false;
  for (const block of body.blocks ?? []) {
    if (block.type !== 'context') continue;
    for (const element of block.elements ?? []) {
      // Formatting marks in ids (`_`, `*`, `~`) are rendered inert with zero-width spaces (escape.ts).
      const text = (element.text ?? '').replaceAll('\u200B', '');
      const single = /notification (\S+)$/.exec(text);
      if (single) {
        ids.push(single[1]!);
        continue;
      }
      const words = text.split(' ');
      if (words[0] === 'notifications') {
        inList = true;
        words.shift();
      }
      if (inList) ids.push(...words.filter((w) => ID_PATTERN.test(w)));
    }
  }
  return ids;
}

/** Notification ids of an email: its `X-Dbswatch-Notification-Ids` header (unfolded). */
export function emailIds(mail: ReceivedMail): string[] {
  const head = mail.raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => /^x-dbswatch-notification-ids:/i.test(l));
  if (!line) return [];
  return line
    .slice(line.indexOf(':') + 1)
    .split(/[,\s]+/)
    .filter(Boolean);
}

export interface Delivery {
  readonly id: string;
  readonly sink: 'slack' | 'email';
  /** Slack webhook path, or the email's recipients. */
  readonly target: string;
}

export interface Comparison {
  /** Notifications the ledger calls for: one per (notifiable event, routed channel). */
  readonly expected: number;
  /** Distinct notification ids received. */
  readonly delivered: number;
  /** Ids received more than once, with the count. */
  readonly duplicates: { id: string; count: number }[];
  /** (plan, task, channel, status #n) the ledger has but no sink received. */
  readonly losses: string[];
  /** Received but not in the ledger (a partial read, a phantom, a wrong channel). */
  readonly extras: string[];
  /** Messages (or ids) that could not be read. */
  readonly unreadable: number;
  /** A delivery that arrived at a sink not matching its channel. */
  readonly misrouted: string[];
}

/**
 * Compares deliveries with the ledger. A task's notifiable events, in
 * ledger order, must match its delivered ids for each routed channel
 * ordered by sequence number — status for status, each id once.
 * (Sequence numbers count the changes dbswatch *saw*, so they are compared
 * by order, not value.)
 */
export function compareWithLedger(options: {
  readonly ledger: readonly SimEvent[];
  /** Channels an event of a plan is routed to. */
  readonly routes: (planId: string, event: 'finished' | 'failed') => readonly string[];
  readonly deliveries: readonly Delivery[];
  /** Where a channel's messages must arrive (Slack path or email recipient). */
  readonly targetOf: (channel: string) => string;
  readonly unreadable?: number;
}): Comparison {
  const expected = new Map<string, string[]>();
  let expectedCount = 0;
  for (const event of options.ledger) {
    const kind = isNotifiable(event);
    if (!kind) continue;
    for (const channel of options.routes(event.planId, kind)) {
      const key = `${event.planId}/${event.taskId}/${channel}`;
      const list = expected.get(key) ?? [];
      list.push(event.to);
      expected.set(key, list);
      expectedCount += 1;
    }
  }
  const counts = new Map<string, number>();
  const misrouted: string[] = [];
  let unreadable = options.unreadable ?? 0;
  const received = new Map<string, ParsedId[]>();
  for (const d of options.deliveries) {
    const parsed = parseNotificationId(d.id);
    if (!parsed) {
      unreadable += 1;
      continue;
    }
    const n = (counts.get(d.id) ?? 0) + 1;
    counts.set(d.id, n);
    if (options.targetOf(parsed.channel) !== d.target) misrouted.push(`${d.id} → ${d.target}`);
    if (n > 1) continue;
    const key = `${parsed.planId}/${parsed.taskId}/${parsed.channel}`;
    const list = received.get(key) ?? [];
    list.push(parsed);
    received.set(key, list);
  }
  const losses: string[] = [];
  const extras: string[] = [];
  for (const key of new Set([...expected.keys(), ...received.keys()])) {
    const want = expected.get(key) ?? [];
    const got = (received.get(key) ?? []).sort((a, b) => a.seq - b.seq);
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      const w = want[i];
      const g = got[i];
      if (w !== undefined && g !== undefined && w === g.status) continue;
      if (w !== undefined) losses.push(`${key} ${w}#${i + 1}`);
      if (g !== undefined) extras.push(g.id);
    }
  }
  return {
    expected: expectedCount,
    delivered: counts.size,
    duplicates: [...counts].filter(([, c]) => c > 1).map(([id, count]) => ({ id, count })),
    losses,
    extras,
    unreadable,
    misrouted,
  };
}

/** All deliveries the two sinks received (every id of every message). */
export function deliveriesOf(slack: readonly ReceivedSlackMessage[], mail: readonly ReceivedMail[]): { deliveries: Delivery[]; unreadable: number } {
  const deliveries: Delivery[] = [];
  let unreadable = 0;
  for (const m of slack) {
    const ids = slackMessageIds(m);
    if (ids.length === 0) unreadable += 1;
    for (const id of ids) deliveries.push({ id, sink: 'slack', target: m.path });
  }
  for (const m of mail) {
    const ids = emailIds(m);
    if (ids.length === 0) unreadable += 1;
    for (const id of ids) deliveries.push({ id, sink: 'email', target: [...m.to].sort().join(',') });
  }
  return { deliveries, unreadable };
}

// ---------------------------------------------------------------------------
// Process inspection

/** Resident set size of a process in KiB (`VmRSS` in /proc/<pid>/status), or undefined. */
export function rssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Log lines that mean a process crashed or lost control: fatal level, unhandled rejections, uncaught exceptions. */
export function alarmingLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    if (/unhandled ?rejection|uncaught ?exception|UnhandledPromiseRejection/i.test(line)) return true;
    if (/"level":60\b/.test(line) || /\bFATAL\b/.test(line)) return true;
    // A Node stack trace printed outside the JSON logger (a crash).
    return /^\s*at .+\(node:internal/.test(line) || /^(Type|Reference|Range|Syntax)Error: /.test(line);
  });
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it held. */
export function pollUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 500): Promise<boolean> {
  return holdsWithin(check, { timeoutMs, intervalMs: everyMs });
}
