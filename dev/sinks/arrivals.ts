/**
 * What both sinks share: a list of received items and a way to wait until
 * it holds enough (by count or by predicate), woken on every arrival rather
 * than polled.
 */
export interface Arrivals<T> {
  /** Call after an item (or an answer) was recorded. */
  notify(): void;
  /** Resolves with a copy of the items once the condition holds; rejects after `timeoutMs`. */
  waitFor(countOrPredicate: number | ((items: readonly T[]) => boolean), timeoutMs?: number): Promise<T[]>;
}

export function arrivals<T>(items: T[], label: string): Arrivals<T> {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const check of [...waiters]) check();
    },
    waitFor(countOrPredicate, timeoutMs = 10_000) {
      const done = typeof countOrPredicate === 'number' ? () => items.length >= countOrPredicate : () => countOrPredicate(items);
      if (done()) return Promise.resolve([...items]);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...items]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${label}: condition not met within ${timeoutMs} ms (${items.length} received)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}
