/**
 * DBS accounts: which client (endpoint + credential + request gate) serves a
 * plan. One process can watch plans in several regions and Alibaba Cloud
 * accounts (config `accounts:`, `plans[].account`, `discover.accounts`); the
 * default account is `dbs.*` with the standard credential chain — today's
 * behaviour. Clients are built on first use and cached per account, and a
 * config reload that changes an account's endpoint or credential gets a new one.
 */
import * as Credentials from '@alicloud/credentials';
import { type AccountConfig, type Config, DEFAULT_ACCOUNT } from '../config.js';
import type { Logger } from '../logger.js';
import type { RequestGate } from '../rate-limit.js';
import { accessKeyCredential, type CredentialLike, createDbsClient, type DbsClient, providerCredential } from './client.js';

export { DEFAULT_ACCOUNT } from '../config.js';

/** Session name dbswatch gives an assumed RAM role (shows in ActionTrail). */
export const ROLE_SESSION_NAME = 'dbswatch';

/**
 * The credential of an account, or undefined for the default chain (env, profile file, ECS RAM role,
 * OIDC). Building one makes no network call: a RAM role is assumed on first use.
 */
export function credentialFor(account: AccountConfig): CredentialLike | undefined {
  const c = account.credential;
  if (!account.roleArn) {
    switch (c.kind) {
      case 'chain':
        return undefined;
      case 'keys':
        return c.securityToken
          ? providerCredential(
              Credentials.StaticSTSCredentialsProvider.builder()
                .withAccessKeyId(c.accessKeyId)
                .withAccessKeySecret(c.accessKeySecret)
                .withSecurityToken(c.securityToken)
                .build(),
            )
          : accessKeyCredential({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret });
      case 'profile':
        return providerCredential(Credentials.ProfileCredentialsProvider.builder().withProfileName(c.profile).build());
    }
  }
  // A RAM role, assumed with the account's own credential (or the default chain).
  const base =
    c.kind === 'keys'
      ? c.securityToken
        ? Credentials.StaticSTSCredentialsProvider.builder()
            .withAccessKeyId(c.accessKeyId)
            .withAccessKeySecret(c.accessKeySecret)
            .withSecurityToken(c.securityToken)
            .build()
        : Credentials.StaticAKCredentialsProvider.builder().withAccessKeyId(c.accessKeyId).withAccessKeySecret(c.accessKeySecret).build()
      : c.kind === 'profile'
        ? Credentials.ProfileCredentialsProvider.builder().withProfileName(c.profile).build()
        : Credentials.DefaultCredentialsProvider.builder().build();
  return providerCredential(
    Credentials.RAMRoleARNCredentialsProvider.builder()
      .withCredentialsProvider(base)
      .withRoleArn(account.roleArn)
      .withRoleSessionName(ROLE_SESSION_NAME)
      .build(),
  );
}

/** The account a plan lives in: `plan.account`, else the default account. */
export function accountOf(plan: { readonly account?: string } | undefined): string {
  return plan?.account ?? DEFAULT_ACCOUNT;
}

/** How `DbsClients` builds what every client shares. */
export interface DbsClientsOptions {
  readonly config: () => Config;
  /** The request gate of an account (DBS limits per account). Default: none. */
  readonly gateFor?: (accountId: string) => RequestGate;
  readonly log?: Logger;
  /** Overrides the default account's credential (tests, the simulator's key). Default: the chain. */
  readonly defaultCredential?: CredentialLike;
}

/** One DBS client per account, built on first use. */
export class DbsClients {
  private readonly cache = new Map<string, { key: string; client: DbsClient }>();

  constructor(private readonly options: DbsClientsOptions) {}

  /** The client of account `id` (default account when absent); throws for an account not in the config. */
  forAccount(id: string | undefined = DEFAULT_ACCOUNT): DbsClient {
    const config = this.options.config();
    const account = config.accounts.find((a) => a.id === id);
    if (!account) throw new Error(`account "${id}" is not in the config (accounts: ${config.accounts.map((a) => a.id).join(', ')})`);
    // Anything that changes the client is in the key: a reload with a new endpoint or key rebuilds it.
    const key = JSON.stringify([account, config.dbs.timeout]);
    const cached = this.cache.get(account.id);
    if (cached?.key === key) return cached.client;
    const credential = account.id === DEFAULT_ACCOUNT && this.options.defaultCredential ? this.options.defaultCredential : credentialFor(account);
    const gate = this.options.gateFor?.(account.id);
    const client = createDbsClient({
      endpoint: account.endpoint,
      protocol: account.protocol,
      timeoutMs: config.dbs.timeout,
      maxResponseBytes: config.dbs.maxResponseBytes,
      ...(credential ? { credential } : {}),
      ...(gate ? { gate } : {}),
      ...(this.options.log ? { log: this.options.log.child({ account: account.id }) } : {}),
    });
    this.cache.set(account.id, { key, client });
    return client;
  }

  /** The client of the account `plan` lives in. */
  forPlan(plan: { readonly account?: string } | undefined): DbsClient {
    return this.forAccount(accountOf(plan));
  }
}
