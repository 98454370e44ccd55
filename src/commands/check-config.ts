/**
 * `dbswatch check-config [--json] [--online]`: validate the config and print
 * it back as a file that loads unchanged (secrets masked); `--json` prints one
 * document, also for an invalid file; `--online` also proves the credentials.
 */
import { ConfigError, type Config, configPath, loadConfig, printableConfig, secretValues } from '../config.js';
import { createDbsClient } from '../dbs/client.js';
import { credentialChain, resolveCredentialSource } from '../dbs/credential-source.js';
import { registerSecrets } from '../logger.js';
import type { RegisterCommand } from './context.js';

/** One account's online check: which credential source answered, and whether a signed call worked. */
export interface OnlineCheck {
  readonly account: string;
  readonly ok: boolean;
  /** e.g. `environment variables (…)`, `OIDC role acs:ram::…`; absent when no source yielded credentials. */
  readonly credentialSource?: string;
  readonly message: string;
}

/**
 * One signed DescribeBackupPlanList call per account, through the same chain
 * the workers use. Never prints a key: only the name of the source.
 */
export async function checkCredentialsOnline(config: Config, env: Readonly<Record<string, string | undefined>>): Promise<OnlineCheck[]> {
  const credential = credentialChain();
  const account = 'default';
  let credentialSource: string | undefined;
  try {
    credentialSource = await resolveCredentialSource(credential, env);
    const api = createDbsClient({ endpoint: config.dbs.endpoint, protocol: config.dbs.protocol, timeoutMs: config.dbs.timeout, credential });
    const page = await api.describeBackupPlanPage({ pageNum: 0, pageSize: 30 });
    return [{ account, ok: true, credentialSource, message: `signed call to ${config.dbs.endpoint} answered (${page.totalElements} backup plan(s) visible)` }];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [{ account, ok: false, ...(credentialSource ? { credentialSource } : {}), message }];
  }
}

export const registerCheckConfig: RegisterCommand = (program, cli) => {
  program
    .command('check-config')
    .description('validate the config and print it as it loads (secrets masked); exit 0 if valid, 1 if not')
    .option('--json', 'print one JSON document: {valid, source, config} or {valid: false, problems: [{path, message}]}')
    .option('--online', 'also make one signed DBS call per account and name the credential source that answered')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch check-config                      # YAML that loads back unchanged, secrets masked
  dbswatch check-config --json | jq .problems
  dbswatch check-config --online             # proves the credentials and names their source`,
    )
    .action(async (opts: { json?: boolean; online?: boolean }) => {
      const path = configPath(cli.globals().config, cli.env);
      let config: Config;
      try {
        config = loadConfig(path, cli.env);
        registerSecrets(secretValues(config));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (opts.json) process.stdout.write(`${JSON.stringify({ valid: false, source: path, problems: error.details }, null, 2)}\n`);
        else process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
        return;
      }
      const online = opts.online ? await checkCredentialsOnline(config, cli.env) : undefined;
      const onlineOk = online?.every((check) => check.ok) ?? true;
      if (opts.json) {
        const document = { valid: true, source: path, config: printableConfig(config), ...(online ? { online } : {}) };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      } else {
        const { stringify } = await import('yaml');
        process.stdout.write(`# ${path}: valid\n${stringify(printableConfig(config), { aliasDuplicateObjects: false })}`);
        for (const check of online ?? []) {
          const source = check.credentialSource ? `credentials from ${check.credentialSource}` : 'no credentials';
          process.stdout.write(`# account ${check.account}: ${check.ok ? 'ok' : 'FAILED'} — ${source}; ${check.message}\n`);
        }
      }
      if (!onlineOk) process.exitCode = 1;
    });
};
