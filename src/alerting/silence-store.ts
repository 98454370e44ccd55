/**
 * Runtime silences and the record of what was silenced, in Redis. Read on
 * every notify job (one HGETALL), so a silence added from the CLI applies to
 * a running `dbswatch run` at once, without a reload.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import { redisKeys } from '../keys.js';
import { configSilences, type Silence, silenceExpired } from './silences.js';

/** How many silenced notifications are kept for `status` and the page. */
export const SILENCED_KEEP = 200;

const runtimeSchema = z.object({
  id: z.string(),
  source: z.literal('runtime'),
  plans: z.array(z.string()).optional(),
  events: z.array(z.string()).optional(),
  channels: z.array(z.string()).optional(),
  from: z.number().optional(),
  until: z.number().optional(),
  reason: z.string(),
  replay: z.boolean(),
  createdBy: z.string().optional(),
  createdAt: z.number().optional(),
});

/** One notification that a silence stopped. Names and ids only: never a URL. */
export interface SilencedRecord {
  readonly notificationId: string;
  readonly planId: string;
  readonly event: string;
  readonly channel: string;
  readonly taskId?: string;
  readonly silenceId: string;
  readonly reason: string;
  readonly at: number;
  /** True when it will be sent once the silence ends. */
  readonly replay: boolean;
}

export interface NewSilence {
  readonly plans?: readonly string[] | undefined;
  readonly events?: readonly string[] | undefined;
  readonly channels?: readonly string[] | undefined;
  readonly forMs: number;
  readonly reason: string;
  /** Default: false. */
  readonly replay?: boolean | undefined;
  readonly createdBy?: string | undefined;
}

export class SilenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async add(input: NewSilence, now = Date.now()): Promise<Silence> {
    const silence: Silence = {
      id: randomBytes(4).toString('hex'),
      source: 'runtime',
      reason: input.reason,
      replay: input.replay ?? false,
      from: now,
      until: now + input.forMs,
      createdAt: now,
      ...(input.plans?.length ? { plans: input.plans } : {}),
      ...(input.events?.length ? { events: input.events } : {}),
      ...(input.channels?.length ? { channels: input.channels } : {}),
      ...(input.createdBy ? { createdBy: input.createdBy } : {}),
    };
    await this.redis.hset(redisKeys(this.prefix).silences, silence.id, JSON.stringify(silence));
    return silence;
  }

  /** Runtime silences still in force or yet to start; expired ones are deleted on the way. */
  async runtime(now = Date.now()): Promise<Silence[]> {
    const raw = await this.redis.hgetall(redisKeys(this.prefix).silences);
    const out: Silence[] = [];
    const expired: string[] = [];
    for (const [id, json] of Object.entries(raw)) {
      let parsed: z.infer<typeof runtimeSchema> | undefined;
      try {
        parsed = runtimeSchema.parse(JSON.parse(json));
      } catch {
        parsed = undefined;
      }
      if (!parsed) continue;
      const silence = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as unknown as Silence;
      if (silenceExpired(silence, now)) expired.push(id);
      else out.push(silence);
    }
    if (expired.length) await this.redis.hdel(redisKeys(this.prefix).silences, ...expired);
    return out.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
  }

  /** Config silences first (in file order), then runtime ones. */
  async all(config: Config, now = Date.now()): Promise<Silence[]> {
    return [...configSilences(config.silences), ...(await this.runtime(now))];
  }

  /** True when a runtime silence with this id existed. Config silences are removed by editing the config. */
  async remove(id: string): Promise<boolean> {
    return (await this.redis.hdel(redisKeys(this.prefix).silences, id)) > 0;
  }

  async recordSilenced(records: readonly SilencedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const key = redisKeys(this.prefix).silenced;
    await this.redis
      .multi()
      .lpush(key, ...records.map((r) => JSON.stringify(r)))
      .ltrim(key, 0, SILENCED_KEEP - 1)
      .exec();
  }

  async recentSilenced(limit = 20): Promise<SilencedRecord[]> {
    const raw = await this.redis.lrange(redisKeys(this.prefix).silenced, 0, Math.max(0, limit - 1));
    return raw.flatMap((json) => {
      try {
        return [JSON.parse(json) as SilencedRecord];
      } catch {
        return [];
      }
    });
  }
}
