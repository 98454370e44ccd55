/**
 * Small pure pieces of the status page's edge: job-data redaction for
 * bull-board, the cross-site check and the filter.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HIDDEN_URL, redactJobData } from '../../src/web/bull-board.js';
import { parseFilter } from '../../src/web/data.js';
import { crossSite } from '../../src/web/routes.js';

describe('redactJobData', () => {
  const signed = 'https://bucket.oss-cn-hangzhou.aliyuncs.com/backup/full.tar.gz?Expires=1&OSSAccessKeyId=LTAI&Signature=abc';

  it('hides URL-valued fields of a notify payload and keeps everything else', () => {
    const data = {
      v: 1,
      channel: 'slack-ops',
      notifications: [{ id: 'n1', event: 'finished', task: { taskId: 't1', name: 'orders', internetUrl: signed, intranetUrl: signed, dataSize: 5 } }],
    };
    const redacted = redactJobData(data);
    expect(redacted).toEqual({
      v: 1,
      channel: 'slack-ops',
      notifications: [{ id: 'n1', event: 'finished', task: { taskId: 't1', name: 'orders', internetUrl: HIDDEN_URL, intranetUrl: HIDDEN_URL, dataSize: 5 } }],
    });
    expect(JSON.stringify(redacted)).not.toContain('Signature');
    // The job's own data is untouched (bull-board formats a copy).
    expect(data.notifications[0]?.task.internetUrl).toBe(signed);
  });

  it('strips query strings from URLs in fields it did not foresee', () => {
    expect(JSON.stringify(redactJobData({ note: `see ${signed}` }))).not.toMatch(/Signature|Expires/);
  });
});

describe('crossSite', () => {
  const req = (headers: Record<string, string>) => ({ headers: { host: '127.0.0.1:9464', ...headers } }) as unknown as IncomingMessage;

  it.each([
    [{}, false],
    [{ origin: 'http://127.0.0.1:9464' }, false],
    [{ 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:9464' }, false],
    [{ 'sec-fetch-site': 'none' }, false],
    [{ origin: 'https://evil.example' }, true],
    [{ origin: 'http://127.0.0.1:9999' }, true],
    [{ origin: 'null' }, true],
    [{ origin: 'not a url' }, true],
    [{ 'sec-fetch-site': 'cross-site' }, true],
    [{ 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:9464' }, true],
  ])('%j → %s', (headers, expected) => {
    expect(crossSite(req(headers))).toBe(expected);
  });
});

describe('parseFilter', () => {
  it('keeps non-empty plan and event, drops empty ones', () => {
    expect(parseFilter(new URLSearchParams('plan=dbs1&event=failed'))).toEqual({ plan: 'dbs1', event: 'failed' });
    expect(parseFilter(new URLSearchParams('plan=&event='))).toEqual({});
    expect(parseFilter(new URLSearchParams(''))).toEqual({});
  });
});
