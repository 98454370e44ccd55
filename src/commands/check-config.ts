/** `dbswatch check-config [--json] [--online]`: validate the config and print it resolved, secrets masked. */
import { maskedConfig } from '../secrets.js';
import { configOrExit, makeLogger, type RegisterCommand } from './context.js';

export const registerCheckConfig: RegisterCommand = (program, cli) => {
  program
    .command('check-config')
    .description('validate the config and print it resolved, with secrets masked; exit 0 if valid, 1 if not')
    .option('--json', 'print JSON instead of YAML')
    .option('--online', 'also ask DBS whether every configured plan exists (one request per 50 plans per account)')
    .action(async (opts: { json?: boolean; online?: boolean }) => {
      const { config, path } = configOrExit(cli);
      const masked = maskedConfig(config) as Record<string, unknown>;
      const online = opts.online ? await (await import('../dbs/plan-check.js')).checkConfigOnline(config, { log: makeLogger(cli) }) : undefined;
      if (online && !online.ok) process.exitCode = 1;
      if (opts.json) process.stdout.write(`${JSON.stringify(online ? { ...masked, online: { ok: online.ok, ...online.report } } : masked, null, 2)}\n`);
      else {
        const { stringify } = await import('yaml');
        process.stdout.write(`# ${path}: valid\n${stringify(masked)}`);
        if (online) process.stdout.write(`# online check: ${online.ok ? 'ok' : 'PROBLEMS'}\n${online.lines.map((l) => `# ${l}`).join('\n')}\n`);
      }
    });
};
