/**
 * The official Alibaba Cloud credential chain, made dependable, and the
 * answer to "which credentials is dbswatch using?".
 *
 * `@alicloud/credentials` 2.4.7 remembers the last provider it *tried* even
 * when every provider failed, so its second call fails with
 * `getaddrinfo ENOTFOUND undefined` (the unset credentials-URI provider) — an
 * error that looks like a network problem. `credentialChain()` starts a fresh
 * chain after each failure and reports every failure as what it is: no usable
 * credentials (`CredentialsUnavailable`, classified as permanent).
 */
import * as Credentials from '@alicloud/credentials';
import { DbswatchError, PERMANENT } from '../errors.js';

type CredentialInstance = InstanceType<typeof CredentialClass>;
const CredentialClass = ((mod: unknown) => (typeof mod === 'function' ? mod : (mod as { default: unknown }).default))(
  Credentials.default,
) as typeof Credentials.default.default;

/** What the chain answers: keys and the provider that produced them (`default/env`, `default/oidc_role_arn`, …). */
interface ResolvedCredentials {
  readonly accessKeyId?: string | undefined;
  readonly accessKeySecret?: string | undefined;
  readonly securityToken?: string | undefined;
  readonly providerName?: string | undefined;
}

/** The operator line used on every attempt while no provider of the chain yields credentials. */
export const NO_CREDENTIALS_MESSAGE =
  'no usable Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, a credentials profile (ALIBABA_CLOUD_PROFILE), an OIDC role (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE) or an ECS RAM role';

/** Thrown by `credentialChain()` whenever the chain yields nothing; never carries the library's text (it can hold paths and URLs). */
export class CredentialsUnavailableError extends DbswatchError {
  constructor() {
    super(NO_CREDENTIALS_MESSAGE, 'CredentialsUnavailable', PERMANENT);
  }
}

/** The default credential chain (env, OIDC, CLI profile, credentials file, ECS RAM role, URI), fresh after every failure. */
export function credentialChain(
  /** Makes a fresh official chain. Default: `new Credential()` (tests pass a stand-in). */
  fresh: () => { getCredential(): Promise<unknown> } = () => new CredentialClass(),
): CredentialInstance {
  let inner = fresh();
  const provider = {
    getProviderName: () => 'default',
    async getCredentials(): Promise<ResolvedCredentials> {
      try {
        return (await inner.getCredential()) as ResolvedCredentials;
      } catch {
        inner = fresh();
        throw new CredentialsUnavailableError();
      }
    },
  };
  // Typed for the documented config-or-provider constructor; the d.ts only declares the config form.
  return new (CredentialClass as unknown as new (config: null, provider: unknown) => CredentialInstance)(null, provider);
}

/**
 * Which source the chain resolved, in operator words — never a secret.
 * `providerName` is what the library reports, e.g. `default/env`.
 */
export function describeCredentialSource(providerName: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const name = (providerName ?? '').replace(/^default\//, '');
  switch (name.split('/')[0]) {
    case 'env':
    case 'static_ak':
    case 'static_sts':
      return env.ALIBABA_CLOUD_SECURITY_TOKEN
        ? 'environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID with an STS ALIBABA_CLOUD_SECURITY_TOKEN)'
        : 'environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET)';
    case 'oidc_role_arn':
      return `OIDC role ${env.ALIBABA_CLOUD_ROLE_ARN ?? '(ALIBABA_CLOUD_ROLE_ARN)'} with the token in ${env.ALIBABA_CLOUD_OIDC_TOKEN_FILE ?? '(ALIBABA_CLOUD_OIDC_TOKEN_FILE)'} (RRSA)`;
    case 'cli_profile':
      return `aliyun CLI profile "${env.ALIBABA_CLOUD_PROFILE ?? 'current'}" (~/.aliyun/config.json)`;
    case 'profile':
      return `credentials file profile "${env.ALIBABA_CLOUD_PROFILE ?? 'default'}" (${env.ALIBABA_CLOUD_CREDENTIALS_FILE ?? '~/.alibabacloud/credentials'})`;
    case 'ram_role_arn':
      return 'RAM role (AssumeRole)';
    case 'ecs_ram_role':
      return `ECS RAM role${env.ALIBABA_CLOUD_ECS_METADATA ? ` ${env.ALIBABA_CLOUD_ECS_METADATA}` : ''} (instance metadata service)`;
    case 'credential_uri':
      return 'credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI)';
    default:
      return name ? `credential provider "${name}"` : 'a credential object given by the caller';
  }
}

/** Resolves the credential once and names its source; throws `CredentialsUnavailableError` when none is usable. */
export async function resolveCredentialSource(
  credential: { getCredential(): Promise<unknown> },
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const resolved = (await credential.getCredential()) as ResolvedCredentials;
  return describeCredentialSource(resolved.providerName, env);
}
