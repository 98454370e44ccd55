/** `dbswatch healthcheck`: what the container HEALTHCHECK runs (see src/healthcheck.ts). */
import { healthcheck } from '../healthcheck.js';
import type { RegisterCommand } from './context.js';

export const registerHealthcheck: RegisterCommand = (program, cli) => {
  program
    .command('healthcheck')
    .description("probe this instance's /healthz on the configured http.host/port; exit 0 healthy, 1 not")
    .addHelpText(
      'after',
      '\nExamples:\n  dbswatch healthcheck --config /app/config/dbswatch.yaml\n  node dist/src/healthcheck.js      # the same, lighter (the image HEALTHCHECK)',
    )
    .action(async () => {
      process.exitCode = await healthcheck(cli.env, cli.globals().config);
    });
};
