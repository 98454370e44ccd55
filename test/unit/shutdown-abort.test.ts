/**
 * A start-up that fails half-way closes what it opened — in reverse order,
 * quietly, without exiting the process — and a later `run` does not close twice.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { Shutdown } from '../../src/shutdown.js';

describe('Shutdown.abort', () => {
  it('closes every step last-first, survives a failing step, never exits, and is idempotent with run', async () => {
    const exits: number[] = [];
    const shutdown = new Shutdown({ deadlineMs: 1_000, log: silentLogger, exit: (code) => exits.push(code) });
    const closed: string[] = [];
    shutdown.register('redis', async () => closed.push('redis'));
    shutdown.register('broken', async () => {
      closed.push('broken');
      throw new Error('already closed');
    });
    shutdown.register('http', async () => closed.push('http'));
    await shutdown.abort();
    expect(closed).toEqual(['http', 'broken', 'redis']);
    expect(shutdown.started).toBe(true);
    await shutdown.run('SIGTERM');
    expect(closed).toHaveLength(3);
    expect(exits).toEqual([]);
  });
});
