import { describe, expect, it } from 'vitest';
import { linkExpiresAt } from '../../src/dbs/link-expiry.js';
import { linkValidity, NO_LINK_YET } from '../../src/notify/link-text.js';

const host = 'https://dbs-1372-cn-hangzhou-p1.oss-cn-hangzhou.example/download/bs/t1.tar.gz';

describe('linkExpiresAt (pre-signed OSS URLs)', () => {
  it.each<[string, string, number | undefined]>([
    ['V1: Expires in epoch seconds', `${host}?Expires=1764590400&OSSAccessKeyId=LTAI&Signature=abc%2B%3D`, 1764590400_000],
    ['V1: parameter order does not matter', `${host}?OSSAccessKeyId=LTAI&Signature=x&Expires=1764590400`, 1764590400_000],
    ['V1: scheme-less, as DBS sends it', `//h.example/x?Expires=1764590400&Signature=x`, 1764590400_000],
    [
      'V4: x-oss-date + x-oss-expires',
      `${host}?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=LTAI%2F20251201%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20251201T120000Z&x-oss-expires=3600&x-oss-signature=deadbeef`,
      Date.UTC(2025, 11, 1, 13, 0, 0),
    ],
    ['V4: 7 days', `${host}?x-oss-date=20251201T000000Z&x-oss-expires=604800&x-oss-signature=x`, Date.UTC(2025, 11, 8)],
    ['V4: names in another case', `${host}?X-Oss-Date=20251201T120000Z&X-Oss-Expires=60`, Date.UTC(2025, 11, 1, 12, 1)],
    ['no query string', host, undefined],
    ['a query without expiry', `${host}?versionId=3`, undefined],
    ['V1: not a number', `${host}?Expires=tomorrow`, undefined],
    ['V1: milliseconds are not seconds', `${host}?Expires=1764590400000`, undefined],
    ['V1: too small to be a date', `${host}?Expires=3600`, undefined],
    ['V4: bad date', `${host}?x-oss-date=2025-12-01T12:00:00Z&x-oss-expires=60`, undefined],
    ['V4: impossible date', `${host}?x-oss-date=20251341T120000Z&x-oss-expires=60`, undefined],
    ['V4: bad lifetime', `${host}?x-oss-date=20251201T120000Z&x-oss-expires=-5`, undefined],
    ['a fragment is not part of the query', `${host}?Expires=1764590400#Expires=1`, 1764590400_000],
    ['undefined', undefined as unknown as string, undefined],
  ])('%s', (_name, url, expected) => {
    expect(linkExpiresAt(url)).toBe(expected);
  });
});

describe('linkValidity (the text shown next to every link)', () => {
  it('says until when, with the zone', () => {
    expect(linkValidity(`${host}?Expires=1764590400`)).toBe('valid until 2025-12-01 12:00:00 UTC');
  });
  it('says nothing when the URL does not carry its expiry', () => {
    expect(linkValidity(host)).toBeUndefined();
  });
  it('names the missing link plainly', () => {
    expect(NO_LINK_YET).toMatch(/^DBS gave no link yet/);
  });
});
