/**
 * `dbswatch silence add|list|remove`: runtime silences, kept in Redis and read
 * by the notify worker on every job, so they apply to a running service at
 * once (no reload). Config silences (`silences:`) are listed too.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { SilenceStore } from '../alerting/silence-store.js';
import type { Silence } from '../alerting/silences.js';
import type { Config } from '../config.js';
import { EVENT_KINDS, WATCHDOG_EVENTS } from '../domain.js';
import { formatInterval as formatDuration } from '../text/duration.js';
import { MAX_SILENCE_MS } from '../web/silences.js';
import { configOrExit, duration, type RegisterCommand } from './context.js';
import { withRedis } from './with-redis.js';

const EVENTS: readonly string[] = [...EVENT_KINDS, ...WATCHDOG_EVENTS];

const collect = (value: string, previous: string[] = []) => [...previous, value];

function eventName(value: string, previous: string[] = []): string[] {
  if (!EVENTS.includes(value)) throw new InvalidArgumentError(`unknown event "${value}": use one of ${EVENTS.join(', ')}`);
  return [...previous, value];
}

function describe(s: Silence, now: number): string {
  const scope = [`plans ${s.plans?.join(',') ?? '*'}`, `events ${s.events?.join(',') ?? '*'}`, `channels ${s.channels?.join(',') ?? '*'}`].join('  ');
  const when = s.weekly
    ? `weekly ${s.weekly.days.join(',')} ${s.weekly.start}-${s.weekly.end} ${s.weekly.timezone}`
    : s.until !== undefined
      ? `until ${new Date(s.until).toISOString()} (${formatDuration(s.until - now)} left)`
      : '';
  return `${s.id}  [${s.source}]  ${scope}  ${when}${s.replay ? '  replay' : ''}  — ${s.reason}`;
}

export interface SilenceAddOptions {
  readonly plan?: string[];
  readonly event?: string[];
  readonly channel?: string[];
  readonly for: number;
  readonly reason: string;
  readonly replay?: boolean;
  readonly by?: string;
  readonly json?: boolean;
}

export async function silenceAdd(config: Config, opts: SilenceAddOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return withRedis(config, async (redis) => {
    const silence = await new SilenceStore(redis, config.redis.prefix).add({
      plans: opts.plan,
      events: opts.event,
      channels: opts.channel,
      forMs: opts.for,
      reason: opts.reason,
      replay: opts.replay,
      createdBy: opts.by ?? 'cli',
    });
    out.write(opts.json ? `${JSON.stringify(silence)}\n` : `silence ${silence.id} added: ${describe(silence, Date.now())}\n`);
    return 0;
  });
}

export async function silenceList(config: Config, opts: { json?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  return withRedis(config, async (redis) => {
    const store = new SilenceStore(redis, config.redis.prefix);
    const now = Date.now();
    const silences = await store.all(config, now);
    if (opts.json) {
      out.write(`${JSON.stringify({ silences, silenced: await store.recentSilenced(50) })}\n`);
      return 0;
    }
    out.write(silences.length ? `${silences.map((s) => describe(s, now)).join('\n')}\n` : 'no silences\n');
    return 0;
  });
}

export async function silenceRemove(
  config: Config,
  id: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return withRedis(config, async (redis) => {
    if (await new SilenceStore(redis, config.redis.prefix).remove(id)) {
      out.write(`silence ${id} removed\n`);
      return 0;
    }
    const hint = id.startsWith('config-') ? ' (config silences are removed by editing the config)' : '';
    err.write(`no runtime silence ${id}${hint}\n`);
    return 1;
  });
}

function silenceFor(value: string): number {
  const ms = duration(value);
  if (ms <= 0 || ms > MAX_SILENCE_MS) throw new InvalidArgumentError('must be a duration between 1s and 30d (longer mutes belong in the config)');
  return ms;
}

export const registerSilence: RegisterCommand = (program, cli) => {
  const silence: Command = program.command('silence').description('mute notifications for a while (runtime silences, applied without a reload)');
  silence
    .command('add')
    .description('add a silence: matching notifications are recorded as silenced and not sent')
    .option('--plan <glob>', 'plan id glob (* = any); repeat for several; default: every plan', collect)
    .option('--event <event>', `event to mute (${EVENTS.join(', ')}); repeat for several; default: every event`, eventName)
    .option('--channel <name>', 'channel to mute; repeat for several; default: every channel', collect)
    .requiredOption('--for <duration>', 'how long, e.g. 2h (at most 30d)', silenceFor)
    .requiredOption('--reason <text>', 'why (shown in status, on the page and in logs)')
    .option('--replay', 'send what was silenced once the silence ends')
    .option('--by <name>', 'who adds it (default: $USER)')
    .option('--json', 'print JSON')
    .action(async (opts: SilenceAddOptions) => {
      const { config } = configOrExit(cli);
      process.exitCode = await silenceAdd(config, { ...opts, by: opts.by ?? cli.env.USER ?? 'cli' });
    });
  silence
    .command('list')
    .description('list config and runtime silences')
    .option('--json', 'print JSON (with recently silenced notifications)')
    .action(async (opts: { json?: boolean }) => {
      const { config } = configOrExit(cli);
      process.exitCode = await silenceList(config, opts);
    });
  silence
    .command('remove <id>')
    .description('remove a runtime silence')
    .action(async (id: string) => {
      const { config } = configOrExit(cli);
      process.exitCode = await silenceRemove(config, id);
    });
};
