/**
 * What messages say about advanced downloads (instances, API 2021-01-01) —
 * shared by the Slack and email renderers. Pure.
 */

import { formatTimestamp } from '../text/format.js';
import { sourceKindOf } from '../tracking/source.js';
import type { Notification } from './event.js';

/** `plan` or `instance`: the word messages use for the source of a notification. */
export function sourceWord(n: Notification): 'plan' | 'instance' {
  return sourceKindOf(n.plan.id);
}

/** The source's id as the operator configured it (an instance key without its namespace marker). */
export function sourceId(n: Notification): string {
  const id = n.plan.id;
  return sourceWord(n) === 'instance' ? id.slice(id.indexOf('!') + 1) : id;
}

/** Extra detail rows for an instance task (label, plain text); none for plan tasks. */
export function advancedRows(n: Notification): { label: string; text: string }[] {
  if (sourceWord(n) !== 'instance') return [];
  const t = n.task;
  const rows: { label: string; text: string }[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value) rows.push({ label, text: value });
  };
  add('Region', t.region);
  add('DBS status', t.downloadStatus);
  if (n.event === 'progress') add('Progress (tables)', t.progress);
  if (t.targetType === 'OSS') add('Written to', `your OSS bucket, path ${t.targetPath ?? '(not reported)'}`);
  if (n.event === 'finished' && t.targetType !== 'OSS') {
    const until = formatTimestamp(t.linksExpireAt);
    add('Links valid until', until);
    add('Links', t.linksNote);
  }
  if (n.event === 'expiring' || (n.event === 'finished' && t.targetType !== 'OSS')) {
    const kept = formatTimestamp(t.resultExpiresAt);
    if (kept) add('Files kept until about', `${kept} (3 days after dbswatch saw it finish; estimated)`);
  }
  return rows;
}

/** The sentence that opens an expired / expiring message; undefined for other events. */
export function advancedSentence(n: Notification): string | undefined {
  const name = n.task.name ?? n.task.taskId;
  if (n.event === 'expired') {
    return `The download of ${name} (instance ${n.plan.name}) expired before dbswatch's check at ${formatTimestamp(n.detectedAt) ?? 'the last poll'}: DBS keeps URL downloads for 3 days after they finish. Create a new download if you still need it.`;
  }
  if (n.event === 'expiring') {
    const kept = formatTimestamp(n.task.resultExpiresAt);
    return `The download of ${name} (instance ${n.plan.name}) expires${kept ? ` around ${kept}` : ' soon'}: fetch it before then.`;
  }
  return undefined;
}
