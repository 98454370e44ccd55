/**
 * `npm run simulate`: starts the simulator and says how to point dbswatch
 * (or any official client) at it. Only the simulator's own fixed test key is
 * ever printed in full; a key passed in is named by its id alone.
 */
import type { Logger } from '../../src/logger.js';
import { resolveScenario } from './scenarios.js';
import { DBS_API_VERSION, DEFAULT_SIM_CREDENTIAL, type RunningSimulator, type SimCredential, startSimulator } from './server.js';

export interface SimulateCommandOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default `demo`. */
  scenario?: string;
  seed?: number;
  /** With accessKeySecret: accept this key instead of the fixed test key. */
  accessKeyId?: string;
  accessKeySecret?: string;
  log: Logger;
}

export async function simulateCommand(opts: SimulateCommandOptions): Promise<RunningSimulator> {
  const scenario = resolveScenario(opts.scenario ?? 'demo');
  const custom = opts.accessKeyId !== undefined || opts.accessKeySecret !== undefined;
  if (custom && (!opts.accessKeyId || !opts.accessKeySecret)) {
    throw new Error('simulate: give both an access key id and secret, or neither (to use the fixed test key)');
  }
  const credential: SimCredential = custom ? { accessKeyId: opts.accessKeyId ?? '', accessKeySecret: opts.accessKeySecret ?? '' } : DEFAULT_SIM_CREDENTIAL;
  const started = Date.now();
  const sim = await startSimulator({
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    scenario,
    credentials: [credential],
  });
  const world = sim.world;
  opts.log.info(
    {
      endpoint: sim.endpoint,
      url: sim.url,
      apiVersion: DBS_API_VERSION,
      scenario: scenario.name,
      plans: world.planIds().length,
      tasks: world.totalTasks,
      startupMs: Date.now() - started,
    },
    `DBS simulator listening on ${sim.url} (scenario ${scenario.name}: ${scenario.description})`,
  );
  const planIds = world.planIds();
  if (planIds.length > 0 && planIds.length <= 20) opts.log.info({ planIds }, `plans: ${planIds.join(', ')}`);
  if (custom) {
    // A caller-supplied key: name it by id only, never print its secret.
    opts.log.info(`credentials: the access key id ${credential.accessKeyId} with the secret you passed in`);
  } else {
    opts.log.info(
      `credentials (fixed test key, not a real secret): ALIBABA_CLOUD_ACCESS_KEY_ID=${DEFAULT_SIM_CREDENTIAL.accessKeyId} ALIBABA_CLOUD_ACCESS_KEY_SECRET=${DEFAULT_SIM_CREDENTIAL.accessKeySecret}`,
    );
  }
  opts.log.info(`point dbswatch at it with dbs.endpoint: ${sim.endpoint} and protocol http; control API at ${sim.url}/_sim/`);
  return sim;
}
