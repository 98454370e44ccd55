/**
 * Ids cannot collide: a property test over adversarial ids (a seeded generator —
 * reproducible, no dependency) plus the exact collisions issue 15 found.
 */
import { describe, expect, it } from 'vitest';
import { decodeIdPart, encodeId, idPart, MAX_ENCODED_PART, sourcePart } from '../../src/ids.js';
import { planSchedulerId } from '../../src/keys.js';
import { notificationId } from '../../src/notify/event.js';
import { digestJobId } from '../../src/notify/routing.js';

/** mulberry32: a small seeded PRNG, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// The separators and escapes of every encoding dbswatch has used, plus unicode and lookalikes.
const ALPHABET = ['.', '~', ':', '%', '-', '_', '3', 'A', 'a', '2', 'E', 'H', 'N', '7', '/', ' ', '*', "'", '!', 'é', '日', '😀', '\u200d', '\n', '|'];

function adversarialId(next: () => number): string {
  const roll = next();
  const length = roll < 0.05 ? 150 + Math.floor(next() * 300) : Math.floor(next() * 8);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return out;
}

describe('idPart', () => {
  it('round-trips every short adversarial value and never emits a separator (5,000 seeded cases)', () => {
    const next = rng(15);
    for (let i = 0; i < 5_000; i++) {
      const value = adversarialId(next);
      const part = idPart(value);
      expect(part, JSON.stringify(value)).not.toMatch(/[.:%\s]/);
      if (!part.startsWith('~H')) expect(decodeIdPart(part), JSON.stringify(value)).toBe(value);
      else expect(part.length).toBe(66);
    }
  });

  it('gives distinct notification ids to distinct tuples (20,000 seeded tuples, many near-collisions)', () => {
    const next = rng(1515);
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const tuple = [
        adversarialId(next),
        adversarialId(next),
        1 + Math.floor(next() * 3),
        next() < 0.5 ? 'finish' : 'st.op',
        next() < 0.5 ? 'ops' : 'o.ps',
      ] as const;
      const id = notificationId(...tuple);
      const key = JSON.stringify(tuple);
      const before = seen.get(id);
      if (before !== undefined) expect(before, `id ${id}`).toBe(key);
      seen.set(id, key);
      expect(id).not.toContain(':');
    }
  });

  it('separates the pairs that collided before the fix', () => {
    expect(notificationId('dbsx', 'y.t1', 2, 'finish', 'ops')).not.toBe(notificationId('dbsx.y', 't1', 2, 'finish', 'ops'));
    expect(notificationId('p', 'col:1', 2, 'finish', 'ops')).not.toBe(notificationId('p', 'col~3A1', 2, 'finish', 'ops'));
    expect(planSchedulerId('dd:1')).not.toBe(planSchedulerId('dd~3A1'));
  });

  it('keeps the old encoding for every value without "." or "~" (existing ids keep deduping)', () => {
    const legacy = (value: string) => encodeURIComponent(value).replace(/[%:]/g, (c) => (c === '%' ? '~' : '~3A'));
    const next = rng(7);
    for (let i = 0; i < 2_000; i++) {
      const value = adversarialId(next).replace(/[.~]/g, '');
      if (legacy(value).length > MAX_ENCODED_PART || /[\uD800-\uDFFF]/.test(value)) continue;
      expect(idPart(value)).toBe(legacy(value));
    }
    expect(notificationId('dbstooi01ex1234', 'dt-9a8b7', 3, 'finish', 'ops-slack')).toBe('dbstooi01ex1234.dt-9a8b7.3-finish.ops-slack');
    expect(planSchedulerId('dbstooi01ex1234')).toBe('plan.dbstooi01ex1234');
  });

  it('hashes long values into a bounded part that still tells them apart', () => {
    const a = 'x'.repeat(5_000);
    const b = `${'x'.repeat(4_999)}y`;
    expect(idPart(a)).toMatch(/^~H[0-9a-f]{64}$/);
    expect(idPart(a)).not.toBe(idPart(b));
    // A lone surrogate would otherwise encode like U+FFFD.
    expect(idPart('\uD800')).not.toBe(idPart('\uFFFD'));
  });
});

describe('sourcePart and digest ids', () => {
  it('never lets another source kind share a plan part, whatever the value', () => {
    const next = rng(19);
    for (let i = 0; i < 2_000; i++) {
      const value = adversarialId(next);
      const other = adversarialId(next);
      expect(sourcePart('instance', value)).not.toBe(sourcePart('plan', other));
      expect(sourcePart('instance', value) === sourcePart('instance', other)).toBe(value === other);
    }
    expect(() => sourcePart('Inst.1', 'x')).toThrow(/kind/);
  });

  it('keeps digests and singles apart (different part counts) and channels with dots distinct', () => {
    expect(digestJobId('a.b', ['x'])).not.toBe(digestJobId('a', ['x']).replace('digest.a.', 'digest.a.b.'));
    expect(digestJobId('a.b', ['x']).split('.')).toHaveLength(3);
    expect(encodeId('a.b', 'c')).toBe('a~2Eb.c');
  });
});
