/**
 * Fails a test file that leaves Redis connections open: every connection a
 * test opens through test/helpers/redis.ts must be closed by its end.
 */
import { afterAll, expect } from 'vitest';
import { openConnections } from '../helpers/redis.js';

afterAll(() => {
  expect(openConnections(), 'test left Redis connections open').toEqual([]);
});
