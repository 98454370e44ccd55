/** `dbswatch check-config`: validate the config and print it resolved, secrets masked. */
import { maskedConfig } from '../secrets.js';
import { configOrExit, type RegisterCommand } from './context.js';

export const registerCheckConfig: RegisterCommand = (program, cli) => {
  program
    .command('check-config')
    .description('validate the config and print it resolved, with secrets masked; exit 0 if valid, 1 if not')
    .option('--json', 'print JSON instead of YAML')
    .action(async (opts: { json?: boolean }) => {
      const { config, path } = configOrExit(cli);
      const masked = maskedConfig(config);
      if (opts.json) process.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
      else {
        const { stringify } = await import('yaml');
        process.stdout.write(`# ${path}: valid\n${stringify(masked)}`);
      }
    });
};
