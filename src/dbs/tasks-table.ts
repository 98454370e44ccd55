/**
 * What `dbswatch tasks --plan ID [--json]` prints. Pure.
 *
 * A pre-signed download URL is a bearer credential to a whole database
 * backup, and terminal output ends up in scrollback, CI logs and tickets: so
 * URLs are printed without their query string and marked `(signed)` when
 * they had one. Task text is untrusted: control characters (terminal escape
 * sequences) are replaced.
 */
import type { DownloadTask } from './task.js';

const COLUMNS = ['ID', 'NAME', 'STATUS', 'SIZE', 'FORMAT', 'CREATED', 'FINISHED'] as const;
/** Widest NAME cell; longer names are cut with an ellipsis. */
const MAX_NAME_WIDTH = 48;

/** A plain-text table, one task per line, columns aligned, ending in a newline. */
export function formatTaskTable(tasks: readonly DownloadTask[]): string {
  if (tasks.length === 0) return 'no download tasks\n';
  const rows = tasks.map((task) => [
    printable(task.taskId),
    cut(printable(task.name ?? '-'), MAX_NAME_WIDTH),
    printable(task.status),
    task.dataSize === undefined ? '-' : humanBytes(task.dataSize),
    printable(task.dataFormat ?? '-'),
    utc(task.createdAt),
    utc(task.finishedAt),
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(COLUMNS), ...rows.map(line)].join('\n')}\n`;
}

/** A task as shown to a person: URLs reduced to `scheme://host/path (signed)`. */
export type DisplayTask = Omit<DownloadTask, 'internetUrl' | 'intranetUrl'> & {
  readonly internetUrl?: string;
  readonly intranetUrl?: string;
};

/** The tasks with every URL's query string (the signature) removed. */
export function tasksForDisplay(tasks: readonly DownloadTask[]): DisplayTask[] {
  return tasks.map((task) => {
    const out: Record<string, unknown> = { ...task };
    if (task.internetUrl !== undefined) out.internetUrl = displayUrl(task.internetUrl);
    if (task.intranetUrl !== undefined) out.intranetUrl = displayUrl(task.intranetUrl);
    return out as DisplayTask;
  });
}

/** Pretty JSON of `tasksForDisplay(tasks)`, ending in a newline. */
export function tasksToJson(tasks: readonly DownloadTask[]): string {
  return `${JSON.stringify(tasksForDisplay(tasks), null, 2)}\n`;
}

/** `https://host/path?sig…` → `https://host/path (signed)`; a URL without query or fragment is unchanged. */
export function displayUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : `${url.slice(0, cut)} (signed)`;
}

/** 1024-based, one decimal below 10 units: `512 B`, `1.5 KiB`, `237 GiB`. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const shown = value < 10 ? value.toFixed(1) : Math.round(value).toString();
  return `${shown} ${units[unit]}`;
}

/** `2022-01-13 03:20:01Z`, or `-` when absent. */
function utc(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '-';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Control characters (including ESC, so no terminal escape sequences) become `?`. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
