/**
 * Missing credentials are named as such on every attempt and are permanent,
 * even though the official chain fails differently on its second call
 * (`getaddrinfo ENOTFOUND undefined`), and the source is described without a secret.
 */
import { describe, expect, it } from 'vitest';
import { CredentialsUnavailableError, credentialChain, describeCredentialSource, NO_CREDENTIALS_MESSAGE } from '../../src/dbs/credential-source.js';
import { classifyDbsFailure, dbsDidNotAnswer } from '../../src/dbs/errors.js';

/** Behaves like @alicloud/credentials 2.4.7 with nothing configured: a chain error first, then ENOTFOUND undefined. */
function brokenOfficialChain() {
  let calls = 0;
  return {
    async getCredential(): Promise<unknown> {
      calls++;
      if (calls === 1) throw new Error('unable to get credentials from any of the providers in the chain: …');
      throw Object.assign(new Error('getaddrinfo ENOTFOUND undefinedGET https://undefined/ failed.'), { code: 'ENOTFOUND' });
    },
  };
}

describe('credentialChain', () => {
  it('says "no usable credentials" on every attempt, starting a fresh chain after each failure', async () => {
    let made = 0;
    const chain = credentialChain(() => {
      made++;
      return brokenOfficialChain();
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await chain.getCredential().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialsUnavailableError);
      const classified = classifyDbsFailure({ kind: 'thrown', error });
      expect(classified).toMatchObject({ code: 'CredentialsUnavailable', retry: { kind: 'permanent' }, message: NO_CREDENTIALS_MESSAGE });
    }
    expect(made).toBe(4);
  });

  it('hands through what a working chain resolves, with its provider name', async () => {
    const chain = credentialChain(() => ({
      getCredential: async () => ({ accessKeyId: 'id', accessKeySecret: 'secret', providerName: 'default/env' }),
    }));
    expect(await chain.getCredential()).toMatchObject({ accessKeyId: 'id', providerName: 'default/env' });
  });

  it("the library's own credential error, should one reach the classifier, is permanent too", () => {
    const error = Object.assign(new Error('Please set up the credentials correctly.'), { code: 'InvalidCredentials' });
    expect(classifyDbsFailure({ kind: 'thrown', error })).toMatchObject({ code: 'CredentialsUnavailable', retry: { kind: 'permanent' } });
  });
});

describe('describeCredentialSource', () => {
  it.each([
    ['default/env', {}, /^environment variables \(ALIBABA_CLOUD_ACCESS_KEY_ID/],
    ['default/env', { ALIBABA_CLOUD_SECURITY_TOKEN: 'sts-token-value' }, /STS ALIBABA_CLOUD_SECURITY_TOKEN/],
    [
      'default/oidc_role_arn',
      { ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1:role/dbswatch', ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/tokens/oidc-token' },
      /^OIDC role acs:ram::1:role\/dbswatch .*oidc-token \(RRSA\)$/,
    ],
    ['default/cli_profile', { ALIBABA_CLOUD_PROFILE: 'prod' }, /^aliyun CLI profile "prod"/],
    ['default/profile', {}, /^credentials file profile "default"/],
    ['default/ecs_ram_role', { ALIBABA_CLOUD_ECS_METADATA: 'dbswatch-role' }, /^ECS RAM role dbswatch-role/],
    ['ram_role_arn/static_ak', {}, /^RAM role/],
  ])('%s with %j → %s', (provider, env, expected) => {
    const text = describeCredentialSource(provider, env);
    expect(text).toMatch(expected);
    expect(text).not.toContain('sts-token-value');
  });
});

describe('dbsDidNotAnswer', () => {
  it.each([
    [10_000, 'DBS did not answer within 10s (dbs.timeout)'],
    [2_500, 'DBS did not answer within 2.5s (dbs.timeout)'],
    [200, 'DBS did not answer within 200ms (dbs.timeout)'],
  ])('%d ms → %s', (ms, text) => {
    const error = dbsDidNotAnswer(ms);
    expect(error.message.startsWith(text)).toBe(true);
    expect(error).toMatchObject({ code: 'Timeout', retry: { kind: 'retryable' } });
  });
});
