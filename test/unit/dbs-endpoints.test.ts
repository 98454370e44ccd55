import { describe, expect, it } from 'vitest';
import { CENTRAL_DBS_HOST, CENTRAL_HOST_REGIONS, dbsHostForRegion, REGIONAL_HOST_REGIONS } from '../../src/dbs/endpoints.js';

describe('DBS endpoint map', () => {
  it.each([
    ['cn-hangzhou', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['cn-beijing', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['cn-hongkong', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['us-west-1', 'dbs-api.cn-hangzhou.aliyuncs.com'],
    ['ap-southeast-1', 'dbs-api.ap-southeast-1.aliyuncs.com'],
    ['ap-northeast-1', 'dbs-api.ap-northeast-1.aliyuncs.com'],
    ['eu-central-1', 'dbs-api.eu-central-1.aliyuncs.com'],
    ['me-east-1', 'dbs-api.me-east-1.aliyuncs.com'],
    ['cn-chengdu', 'dbs-api.cn-chengdu.aliyuncs.com'],
  ])('%s → %s', (region, host) => {
    expect(dbsHostForRegion(region)).toBe(host);
  });

  it('maps exactly 12 regions to the cn-hangzhou host and 11 to their own', () => {
    expect(CENTRAL_HOST_REGIONS).toHaveLength(12);
    expect(REGIONAL_HOST_REGIONS).toHaveLength(11);
    for (const region of CENTRAL_HOST_REGIONS) expect(dbsHostForRegion(region)).toBe(CENTRAL_DBS_HOST);
    for (const region of REGIONAL_HOST_REGIONS) expect(dbsHostForRegion(region)).toBe(`dbs-api.${region}.aliyuncs.com`);
  });

  it.each(['mars-north-1', 'ap-southeast-9', '', 'CN-HANGZHOU'])('does not guess a host for %j', (region) => {
    expect(dbsHostForRegion(region)).toBeUndefined();
  });
});
