/**
 * Task sources and their namespacing. dbswatch tracks two kinds of source
 * through one pipeline: DBS backup plans (API 2019-03-06) and database
 * instances with "advanced download" tasks (API 2021-01-01). Everything keyed
 * per source — the poll job payload, the Job Scheduler id, the Redis state
 * keys, the notification ids — is keyed by `sourceKey(kind, id)`.
 *
 * This file is the ONE place that namespacing lives, so an injective id
 * encoder can replace it wholesale. Rules it keeps:
 * - a plan's key IS its id, byte for byte: existing deployments keep their
 *   Redis state, schedulers and notification ids (and so their dedupe);
 * - an instance's key carries a marker (`instance!`) that no plan key can
 *   hold: `!` is outside the configured plan-id alphabet, and a discovered
 *   plan whose id happens to parse as an instance key is never tracked as a
 *   plan (`parseSourceKey` wins), so the two can never share state.
 */

/** The kinds of task source. */
export type SourceKind = 'plan' | 'instance';

/** Marker of an instance key; `!` cannot appear in a configured plan id. */
const INSTANCE_MARKER = 'instance!';

/** The pipeline key of a source: a plan's id unchanged; an instance's id behind a marker. */
export function sourceKey(kind: SourceKind, id: string): string {
  return kind === 'plan' ? id : `${INSTANCE_MARKER}${id}`;
}

/** Inverse of `sourceKey`. */
export function parseSourceKey(key: string): { readonly kind: SourceKind; readonly id: string } {
  if (key.startsWith(INSTANCE_MARKER) && key.length > INSTANCE_MARKER.length) {
    return { kind: 'instance', id: key.slice(INSTANCE_MARKER.length) };
  }
  return { kind: 'plan', id: key };
}

/** The kind of the source behind a pipeline key (a plan id, or an instance key). */
export function sourceKindOf(key: string): SourceKind {
  return parseSourceKey(key).kind;
}
