/**
 * 2021-01-01 clients per instance: the instance's region picks the endpoint
 * (`endpointForRegion`), its account the credential (today: the one default
 * credential; per-account credentials plug in here). One client per
 * endpoint, shared by every instance that resolves to it, all behind the one
 * DBS request gate.
 */
import { type Config, DEFAULT_ACCOUNT, type InstanceConfig } from '../config.js';
import type { CredentialLike } from '../dbs/client.js';
import type { Logger } from '../logger.js';
import type { RequestGate } from '../rate-limit.js';
import { createDbs2021Client, type Dbs2021Api } from './client.js';
import { endpointForRegion } from './endpoint.js';

export function dbs2021ClientFactory(deps: {
  readonly config: () => Config;
  readonly gate?: RequestGate;
  readonly log?: Logger;
  readonly credential?: CredentialLike;
}): (instance: InstanceConfig) => Dbs2021Api {
  const clients = new Map<string, Dbs2021Api>();
  return (instance) => {
    const config = deps.config();
    const dbs = config.dbs;
    // The default account carries `region` only when its endpoint came from the map (no dbs.endpoint given).
    const defaultAccount = config.accounts.find((a) => a.id === DEFAULT_ACCOUNT);
    const explicit = defaultAccount && defaultAccount.region === undefined ? defaultAccount.endpoint : undefined;
    const endpoint = endpointForRegion(instance.region, explicit);
    const cacheKey = `${dbs.protocol}|${endpoint}|${dbs.timeout}`;
    let client = clients.get(cacheKey);
    if (!client) {
      client = createDbs2021Client({
        endpoint,
        protocol: dbs.protocol,
        timeoutMs: dbs.timeout,
        ...(deps.credential ? { credential: deps.credential } : {}),
        ...(deps.gate ? { gate: deps.gate } : {}),
        ...(deps.log ? { log: deps.log } : {}),
      });
      clients.set(cacheKey, client);
    }
    return client;
  };
}
