/**
 * A retried notification whose links were stripped when it failed for good
 * (`urlsRemoved`): `restoreLinks` re-reads each finished task by id through
 * the `DbsApi` port. The end-to-end path (strip on failure, Retry button,
 * fresh links delivered) is in test/e2e/secrets-audit.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DbsApi, DownloadTaskQuery } from '../../src/dbs/client.js';
import type { DownloadTask } from '../../src/dbs/task.js';
import { restoreLinks } from '../../src/jobs/notify.js';
import { silentLogger } from '../../src/logger.js';
import type { Notification } from '../../src/notify/event.js';

function notification(taskId: string, event: Notification['event'], extra: Partial<DownloadTask> = {}): Notification {
  return {
    id: `plan1.${taskId}.2-x.slack-a`,
    event,
    plan: { id: 'plan1', name: 'plan1' },
    task: { taskId, planId: 'plan1', status: event === 'finished' ? 'finish' : 'stop', downloadWay: 'manual', ...extra },
    seq: 2,
    detectedAt: 1,
  };
}

/** A DBS port that knows some tasks and records what it was asked. */
function fakeDbs(known: Record<string, Partial<DownloadTask>>) {
  const asked: DownloadTaskQuery[] = [];
  const api: Pick<DbsApi, 'describeDownloadTaskPage'> = {
    async describeDownloadTaskPage(query) {
      asked.push(query);
      const id = 'taskId' in query ? query.taskId : '';
      const task = known[id];
      const items = task ? [{ taskId: id, planId: 'plan1', status: 'finish', ...task } as DownloadTask] : [];
      return { pageNum: 0, pageSize: 30, totalPages: items.length, totalElements: items.length, items };
    },
  };
  return { api, asked };
}

describe('restoreLinks', () => {
  it('re-reads finished manual tasks by id and puts their current links back', async () => {
    const { api, asked } = fakeDbs({
      t1: { internetUrl: 'https://oss.example/t1?Signature=fresh', intranetUrl: 'https://oss-internal.example/t1?Signature=fresh2' },
    });
    const out = await restoreLinks([notification('t1', 'finished'), notification('t2', 'failed')], api, silentLogger);
    expect(asked).toEqual([{ taskId: 't1' }]);
    expect(out[0]?.task).toMatchObject({
      internetUrl: 'https://oss.example/t1?Signature=fresh',
      intranetUrl: 'https://oss-internal.example/t1?Signature=fresh2',
    });
    expect(out[1]?.task.internetUrl).toBeUndefined();
  });

  it('sends without links when DBS no longer lists the task, or when no DBS client is wired', async () => {
    const { api } = fakeDbs({});
    const [gone] = await restoreLinks([notification('t9', 'finished')], api, silentLogger);
    expect(gone?.task.internetUrl).toBeUndefined();
    const [unwired] = await restoreLinks([notification('t1', 'finished')], undefined, silentLogger);
    expect(unwired?.task.internetUrl).toBeUndefined();
  });

  it('does not ask DBS about auto (gateway) downloads, and asks once per task', async () => {
    const { api, asked } = fakeDbs({ t1: { internetUrl: 'https://oss.example/t1?Signature=a' } });
    await restoreLinks(
      [notification('t1', 'finished'), notification('t1', 'finished'), notification('t3', 'finished', { downloadWay: 'auto' })],
      api,
      silentLogger,
    );
    expect(asked).toEqual([{ taskId: 't1' }]);
  });

  it('lets a DBS failure fail the attempt', async () => {
    const api: Pick<DbsApi, 'describeDownloadTaskPage'> = {
      describeDownloadTaskPage: async () => {
        throw new Error('DBS is down');
      },
    };
    await expect(restoreLinks([notification('t1', 'finished')], api, silentLogger)).rejects.toThrow('DBS is down');
  });
});
