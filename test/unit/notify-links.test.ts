/**
 * Links in messages (issue 13): "valid until" next to every link in Slack,
 * email and digests, "DBS gave no link yet" for a finished manual download
 * without URLs, a plain sentence for a link that expired before sending; and
 * the pure decisions of the notify worker about re-reading stale links.
 */
import { describe, expect, it } from 'vitest';
import { dropExpiredLinks, LINK_MIN_VALIDITY_MS, LINK_STALE_AFTER_MS, linksStale } from '../../src/jobs/notify.js';
import { renderEmailDigest, renderEmailSingle } from '../../src/notify/email-render.js';
import type { Notification } from '../../src/notify/event.js';
import { sampleNotification } from '../../src/notify/sample.js';
import { digestLine, renderSlackSingle } from '../../src/notify/slack-render.js';

const EXPIRES_S = 1_764_590_400; // 2025-12-01 12:00:00 UTC
const VALID = 'valid until 2025-12-01 12:00:00 UTC';
const v1 = (host: string) => `https://${host}.oss-cn-hangzhou.example/b/t.zip?Expires=${EXPIRES_S}&OSSAccessKeyId=LTAI&Signature=S`;
const v4 = (host: string) => `https://${host}.oss-cn-hangzhou.example/b/t.zip?x-oss-date=20251130T120000Z&x-oss-expires=86400&x-oss-signature=ab`;

function finished(task: Partial<Notification['task']>, extra: Partial<Notification> = {}): Notification {
  const base = sampleNotification('finished', 'ops');
  const { internetUrl: _i, intranetUrl: _n, ...rest } = base.task;
  return { ...base, ...extra, task: { ...rest, ...task } };
}

const withLinks = finished({ internetUrl: v1('pub'), intranetUrl: v4('vpc') });
const noLinks = finished({ downloadWay: 'manual' });
const expired = finished({ downloadWay: 'manual' }, { linksExpiredAt: EXPIRES_S * 1000 });
const slackText = (n: Notification) => JSON.stringify(renderSlackSingle(n).blocks);

describe('links in Slack and email', () => {
  it.each<[string, (n: Notification) => string]>([
    ['Slack message', slackText],
    ['Slack digest line', digestLine],
    ['email text', (n) => renderEmailSingle(n).text],
    ['email HTML', (n) => renderEmailSingle(n).html],
    ['email digest text', (n) => renderEmailDigest([n, sampleNotification('failed', 'ops', { index: 3 })]).text],
    ['email digest HTML', (n) => renderEmailDigest([n, sampleNotification('failed', 'ops', { index: 3 })]).html],
  ])('%s: "valid until" next to the link, "DBS gave no link yet" without one, a plain note for an expired one', (_name, render) => {
    expect(render(withLinks)).toContain(VALID);
    expect(render(noLinks)).toContain('DBS gave no link yet');
    expect(render(noLinks)).not.toContain('valid until');
    expect(render(expired)).toContain('the download link expired at 2025-12-01 12:00:00 UTC');
  });

  it('V4 links read their expiry from x-oss-date + x-oss-expires', () => {
    expect(renderEmailSingle(withLinks).text).toMatch(/Intranet URL: https:\/\/vpc\S+ \(valid until 2025-12-01 12:00:00 UTC\)/);
  });

  it('labels BackupSetDataSize as the backup set size', () => {
    expect(slackText(withLinks)).toContain('Backup set size');
    expect(renderEmailSingle(withLinks).text).toMatch(/^Backup set size: /m);
  });

  it('an auto download (pushed to a gateway) never says "no link yet"', () => {
    expect(slackText(finished({ downloadWay: 'auto', gatewayId: 7, downloadDir: '/data' }))).not.toContain('no link');
  });
});

describe('stale and dead links at send time (notify worker, pure)', () => {
  const at = EXPIRES_S * 1000;
  it.each<[string, Notification, number, boolean]>([
    ['plenty of lifetime left', withLinks, at - 2 * LINK_MIN_VALIDITY_MS, false],
    ['expires within the hour', withLinks, at - LINK_MIN_VALIDITY_MS / 2, true],
    ['already expired', withLinks, at + 1, true],
    ['no expiry in the URL, sent right away', finished({ internetUrl: 'https://h.example/x' }, { detectedAt: at }), at + 1_000, false],
    ['no expiry in the URL, sent long after', finished({ internetUrl: 'https://h.example/x' }, { detectedAt: at }), at + LINK_STALE_AFTER_MS + 1, true],
    ['no links, sent long after', finished({ downloadWay: 'manual' }, { detectedAt: at }), at + LINK_STALE_AFTER_MS + 1, true],
  ])('%s → re-read: %s', (_name, n, now, expected) => {
    expect(linksStale(n, now)).toBe(expected);
  });

  it('drops dead links and marks the notification when none is left', () => {
    const [dead] = dropExpiredLinks([finished({ internetUrl: v1('pub') })], at + 1);
    expect(dead?.task.internetUrl).toBeUndefined();
    expect(dead?.linksExpiredAt).toBe(at);
    const [half] = dropExpiredLinks([finished({ internetUrl: v1('pub'), intranetUrl: 'https://h.example/no-expiry' })], at + 1);
    expect(half?.task).toMatchObject({ intranetUrl: 'https://h.example/no-expiry' });
    expect(half?.task.internetUrl).toBeUndefined();
    expect(half?.linksExpiredAt).toBeUndefined();
    const [alive] = dropExpiredLinks([withLinks], at - 1);
    expect(alive).toBe(withLinks);
  });
});
