/**
 * Which DBS API host serves a region — the endpoint map of the official SDK
 * clients for `dbs-20190306` (shared/reference/dbs-api.md, "Endpoints").
 * Pure data: `RegionId` is not a parameter of the operations dbswatch calls,
 * the region only picks the host.
 */

/** The host that serves every region not listed in `REGIONAL_HOST_REGIONS`'s own hosts. Default region: cn-hangzhou. */
export const CENTRAL_DBS_HOST = 'dbs-api.cn-hangzhou.aliyuncs.com';

/** Regions the SDK maps to the cn-hangzhou host (mainland, Hong Kong, US and the finance regions). */
export const CENTRAL_HOST_REGIONS: readonly string[] = [
  'cn-qingdao',
  'cn-beijing',
  'cn-zhangjiakou',
  'cn-hangzhou',
  'cn-shanghai',
  'cn-shenzhen',
  'cn-hongkong',
  'us-west-1',
  'us-east-1',
  'cn-hangzhou-finance',
  'cn-shanghai-finance-1',
  'cn-shenzhen-finance-1',
];

/** Regions with their own `dbs-api.<region>.aliyuncs.com`. */
export const REGIONAL_HOST_REGIONS: readonly string[] = [
  'cn-chengdu',
  'cn-huhehaote',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-northeast-1',
  'ap-south-1',
  'eu-central-1',
  'eu-west-1',
  'me-east-1',
];

/** Every region dbswatch knows a DBS host for. */
export const KNOWN_REGIONS: readonly string[] = [...CENTRAL_HOST_REGIONS, ...REGIONAL_HOST_REGIONS];

/** Default region when neither `dbs.region` nor `dbs.endpoint` is set: cn-hangzhou (today's behaviour). */
export const DEFAULT_REGION = 'cn-hangzhou';

/** The DBS API host for `region`, or undefined for a region the map does not know. */
export function dbsHostForRegion(region: string): string | undefined {
  if (CENTRAL_HOST_REGIONS.includes(region)) return CENTRAL_DBS_HOST;
  if (REGIONAL_HOST_REGIONS.includes(region)) return `dbs-api.${region}.aliyuncs.com`;
  return undefined;
}
