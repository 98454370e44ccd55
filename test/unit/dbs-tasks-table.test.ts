import { describe, expect, it } from 'vitest';
import type { DownloadTask } from '../../src/dbs/task.js';
import { displayUrl, formatTaskTable, humanBytes, tasksToJson } from '../../src/dbs/tasks-table.js';

const finished: DownloadTask = {
  taskId: 'urxgrxt7',
  planId: 'p1',
  status: 'finish',
  name: 'nightly-full',
  dataSize: 237_837,
  dataFormat: 'Native',
  createdAt: Date.UTC(2022, 0, 13, 3, 20, 1),
  finishedAt: Date.UTC(2022, 0, 13, 3, 20, 13),
  internetUrl: 'https://bucket.oss.example/set.tar.gz?Expires=1&OSSAccessKeyId=AK&Signature=SECRETSIG',
  intranetUrl: 'https://bucket-internal.oss.example/set.tar.gz',
};
const running: DownloadTask = { taskId: 't2', planId: 'p1', status: 'running' };

describe('formatTaskTable', () => {
  it('prints a header and one aligned row per task', () => {
    const lines = formatTaskTable([finished, running]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+SIZE\s+FORMAT\s+CREATED\s+FINISHED$/);
    expect(lines[1]).toMatch(/^urxgrxt7\s+nightly-full\s+finish\s+232 KiB\s+Native\s+2022-01-13 03:20:01Z\s+2022-01-13 03:20:13Z$/);
    expect(lines[2]).toMatch(/^t2\s+-\s+running\s+-\s+-\s+-\s+-$/);
    // Aligned: every column starts at the same offset on every line.
    const statusColumn = lines[0]?.indexOf('STATUS');
    expect(lines[1]?.indexOf('finish')).toBe(statusColumn);
    expect(lines[2]?.indexOf('running')).toBe(statusColumn);
  });

  it('never prints a download URL', () => {
    expect(formatTaskTable([finished])).not.toContain('oss.example');
  });

  it('neutralises terminal escape sequences in task text', () => {
    const out = formatTaskTable([{ ...running, name: 'evil\x1b[2Jname' }]);
    expect(out).not.toContain('\x1b');
    expect(out).toContain('evil?[2Jname');
  });

  it('says so when there is nothing to show', () => {
    expect(formatTaskTable([])).toBe('no download tasks\n');
  });
});

describe('tasksToJson', () => {
  it('strips the signature from URLs and marks them signed', () => {
    const json = tasksToJson([finished, running]);
    expect(json).not.toContain('SECRETSIG');
    expect(json).not.toContain('OSSAccessKeyId');
    const parsed = JSON.parse(json) as Record<string, unknown>[];
    expect(parsed[0]).toMatchObject({
      taskId: 'urxgrxt7',
      internetUrl: 'https://bucket.oss.example/set.tar.gz (signed)',
      intranetUrl: 'https://bucket-internal.oss.example/set.tar.gz',
      dataSize: 237_837,
    });
    expect(parsed[1]).toEqual(running);
  });
});

describe('helpers', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [237_837, '232 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('humanBytes(%i) = %s', (bytes, expected) => {
    expect(humanBytes(bytes)).toBe(expected);
  });

  it('displayUrl cuts at the fragment too', () => {
    expect(displayUrl('https://h.example/a#token=x')).toBe('https://h.example/a (signed)');
  });
});
