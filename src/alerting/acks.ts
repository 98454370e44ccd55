/**
 * Acknowledgements: "someone is on it" for a failed task. An ack stops that
 * task's remaining reminders (checked when each slot fires); it expires after
 * a month, long after any reminder series has ended.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../keys.js';

export const ACK_TTL_MS = 30 * 86_400_000;

export interface Ack {
  readonly taskId: string;
  readonly by: string;
  readonly at: number;
}

/** Records the ack; returns false when the task was already acknowledged (the first ack is kept). */
export async function acknowledge(redis: Redis, prefix: string, ack: Ack): Promise<boolean> {
  const set = await redis.set(redisKeys(prefix).ack(ack.taskId), JSON.stringify(ack), 'PX', ACK_TTL_MS, 'NX');
  return set === 'OK';
}

export async function readAck(redis: Redis, prefix: string, taskId: string): Promise<Ack | undefined> {
  const raw = await redis.get(redisKeys(prefix).ack(taskId));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Ack;
  } catch {
    return undefined;
  }
}
