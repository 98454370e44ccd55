/**
 * Which DBS endpoint serves an instance's region (reference §1 "Endpoints",
 * the SDK's map — identical for 2019-03-06 and 2021-01-01). The one place the
 * advanced-download poller picks a host: point it at the shared endpoint map
 * once the project has one (accounts/regions work), and keep the signature.
 */

/** Regions with their own DBS API host; every other mapped region is served by cn-hangzhou. */
const OWN_ENDPOINT = new Set([
  'cn-chengdu',
  'cn-huhehaote',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'ap-northeast-1',
  'eu-central-1',
  'ap-south-1',
  'eu-west-1',
  'me-east-1',
]);

const CENTRAL = new Set([
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
]);

/** The configured default host (`dbs.endpoint`); a simulator or proxy endpoint overrides the map. */
export const DEFAULT_DBS_ENDPOINT = 'dbs-api.cn-hangzhou.aliyuncs.com';

/**
 * The `host[:port]` for an instance in `region`. When `configured` is not the
 * default public host (a simulator, a proxy), it wins — like the SDK, where an
 * explicit endpoint beats the map. Unmapped regions get the SDK's generic rule
 * `dbs.<region>.aliyuncs.com` (whether that host exists is unknown).
 */
export function endpointForRegion(region: string, configured: string = DEFAULT_DBS_ENDPOINT): string {
  if (configured !== DEFAULT_DBS_ENDPOINT) return configured;
  if (CENTRAL.has(region)) return DEFAULT_DBS_ENDPOINT;
  if (OWN_ENDPOINT.has(region)) return `dbs-api.${region}.aliyuncs.com`;
  return `dbs.${region}.aliyuncs.com`;
}
