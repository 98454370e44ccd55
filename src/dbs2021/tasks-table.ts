/** `dbswatch tasks --instance`: advanced download tasks as a table or JSON (pure). */
import { formatBytes, formatTimestamp } from '../text/format.js';
import type { AdvancedDownloadTask } from './task.js';

/** A fixed-width table, one task per line, oldest first (as listed). */
export function formatAdvancedTaskTable(tasks: readonly AdvancedDownloadTask[]): string {
  const header = ['TASK', 'STATUS', 'PROGRESS', 'FORMAT', 'TARGET', 'SIZE', 'CREATED'];
  const rows = tasks.map((t) => [
    t.taskId,
    t.status,
    t.progress ?? '',
    t.format ?? '',
    t.targetType === 'OSS' ? `OSS:${t.targetPath ?? ''}` : (t.targetType ?? ''),
    formatBytes(t.exportDataSize) ?? '',
    formatTimestamp(t.createdAt) ?? '',
  ]);
  if (rows.length === 0) return '(no advanced download tasks)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function advancedTasksToJson(tasks: readonly AdvancedDownloadTask[]): string {
  return `${JSON.stringify(tasks, null, 2)}\n`;
}
