/**
 * `dbswatch check-config [--json] [--online]`: validate the config and print
 * it back as a file that loads unchanged (secrets masked); `--json` prints one
 * document, also for an invalid file; `--online` also proves the credentials
 * and asks DBS whether every configured plan exists.
 */
import { type Config, ConfigError, configPath, loadConfig } from '../config.js';
import { createDbsClient } from '../dbs/client.js';
import { credentialChain, resolveCredentialSource } from '../dbs/credential-source.js';
import { checkConfigOnline } from '../dbs/plan-check.js';
import { printableConfig, registerSecrets, secretValues } from '../secrets.js';
import { makeLogger, type RegisterCommand } from './context.js';

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
    .option('--online', 'also make one signed DBS call, name the credential source that answered, and check that every configured plan exists')
    .addHelpText(
      'after',
      `
Examples:
  dbswatch check-config                      # YAML that loads back unchanged, secrets masked
  dbswatch check-config --json | jq .problems
  dbswatch check-config --online             # proves the credentials, names their source, finds unknown plan ids`,
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
      const credentials = opts.online ? await checkCredentialsOnline(config, cli.env) : undefined;
      const credentialsOk = credentials?.every((check) => check.ok) ?? true;
      // Only ask about plans once the credentials work: otherwise every plan would look unknown.
      const plans = opts.online && credentialsOk ? await checkConfigOnline(config, { log: makeLogger(cli) }) : undefined;
      const onlineOk = credentialsOk && (plans?.ok ?? true);
      if (opts.json) {
        const online = credentials ? { online: { ok: onlineOk, credentials, ...(plans ? plans.report : {}) } } : {};
        const document = { valid: true, source: path, config: printableConfig(config), ...online };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      } else {
        const { stringify } = await import('yaml');
        process.stdout.write(`# ${path}: valid\n${stringify(printableConfig(config), { aliasDuplicateObjects: false })}`);
        for (const check of credentials ?? []) {
          const source = check.credentialSource ? `credentials from ${check.credentialSource}` : 'no credentials';
          process.stdout.write(`# account ${check.account}: ${check.ok ? 'ok' : 'FAILED'} — ${source}; ${check.message}\n`);
        }
        if (credentials) process.stdout.write(`# online check: ${onlineOk ? 'ok' : 'PROBLEMS'}\n${(plans?.lines ?? []).map((l) => `# ${l}`).join('\n')}\n`);
      }
      if (!onlineOk) process.exitCode = 1;
    });
};
