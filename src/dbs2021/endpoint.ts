/**
 * Which DBS endpoint serves an instance's region: the project's one endpoint
 * map (src/dbs/endpoints.ts, the SDK's map — identical for 2019-03-06 and
 * 2021-01-01). An explicitly configured endpoint (a simulator, a proxy) wins,
 * like the SDK, where an explicit endpoint beats the map.
 */
import { dbsHostForRegion } from '../dbs/endpoints.js';

/**
 * The `host[:port]` for an instance in `region`; `explicit` is a configured
 * `dbs.endpoint` (absent when the endpoint comes from `dbs.region`). Unmapped
 * regions get the SDK's generic rule `dbs.<region>.aliyuncs.com` (whether that
 * host exists is unknown).
 */
export function endpointForRegion(region: string, explicit?: string): string {
  if (explicit !== undefined) return explicit;
  return dbsHostForRegion(region) ?? `dbs.${region}.aliyuncs.com`;
}
