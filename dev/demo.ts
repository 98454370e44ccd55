/**
 * `npm run demo`: dbswatch working end to end in one command, with nothing to
 * configure. Starts the DBS simulator (demo scenario), a Slack-webhook sink
 * and an SMTP sink that print each message in the terminal (emails are also
 * saved as .eml under demo-output/), and the full `run` pipeline against them.
 * Redis: REDIS_URL or 127.0.0.1:6379 if it answers, else a private
 * redis-server, else a clear message on how to get one.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import { accessKeyCredential } from '../src/dbs/client.js';
import { createLogger } from '../src/logger.js';
import { startRole } from '../src/roles.js';
import { redisAnswers, startPrivateRedis } from './local-redis.js';
import { DEFAULT_SIM_CREDENTIAL, startSimulator } from './simulator/index.js';
import { formatSlackMessageForTerminal, startSlackSink } from './sinks/slack-sink.js';
import { startSmtpSink } from './sinks/smtp-sink.js';

export interface DemoOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stop after this long. Default: run until Ctrl-C. */
  readonly durationMs?: number;
  /** Port of the demo's HTTP server (status page, metrics). Default: 9464; 0 = any. */
  readonly httpPort?: number;
  readonly logLevel?: string;
  /** Where .eml files go. Default: demo-output/. */
  readonly outputDir?: string;
  /** Where the narration goes. Default: stdout. */
  readonly print?: (text: string) => void;
}

interface DemoRedis {
  readonly url: string;
  readonly source: string;
  stop(): Promise<void>;
}

/** Finds a Redis for the demo, starting a private one if needed. */
async function demoRedis(env: DemoOptions['env']): Promise<DemoRedis | undefined> {
  for (const url of [env.REDIS_URL, 'redis://127.0.0.1:6379']) {
    if (url && (await redisAnswers(url))) return { url, source: url === env.REDIS_URL ? 'REDIS_URL' : 'local Redis', stop: async () => {} };
  }
  try {
    const redis = await startPrivateRedis();
    return { url: redis.url, source: 'a private redis-server', stop: () => redis.destroy() };
  } catch {
    return undefined;
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Where the demo's Slack channel posts; the banner shows the same URL. */
const SLACK_PATH = '/services/TDEMO/BDEMO/demo';

export async function runDemo(options: DemoOptions): Promise<number> {
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const outputDir = resolve(options.outputDir ?? 'demo-output');
  const redis = await demoRedis(options.env);
  if (!redis) {
    process.stderr.write(
      [
        'dbswatch demo needs Redis, and none answered:',
        '  - nothing at REDIS_URL or 127.0.0.1:6379, and',
        '  - redis-server is not installed, so a private one could not be started.',
        'Get one of these and run the demo again:',
        '  apt-get install -y redis-server        (Debian/Ubuntu)',
        '  docker run -d -p 6379:6379 redis:7     (then REDIS_URL=redis://127.0.0.1:6379)',
        '',
      ].join('\n'),
    );
    return 1;
  }

  const sim = await startSimulator({ scenario: 'demo', credentials: [DEFAULT_SIM_CREDENTIAL] });
  const instance = addDemoInstance(sim);
  let delivered = 0;
  const slack = await startSlackSink({
    onMessage: (message) => {
      delivered++;
      print(`\n── Slack (${message.path}) ───────────────────────────────\n${formatSlackMessageForTerminal(message.body)}`);
    },
  });
  const smtp = await startSmtpSink({
    saveDir: outputDir,
    onMessage: (mail) => {
      delivered++;
      const subject = /^Subject: (.*)$/im.exec(mail.raw)?.[1] ?? '(no subject)';
      print(`\n── Email to ${mail.to.join(', ')} ─────────────────────────\nSubject: ${subject}\n(saved under ${outputDir})`);
    },
  });

  const prefix = `dbswatch-demo-${randomBytes(3).toString('hex')}`;
  const plans = sim.world.planIds();
  const yaml = `
redis: { url: "${redis.url}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http, pageSize: 30, requestsPerSecond: 10, timeout: 5s }
defaults: { interval: 5s, notify: [demo-slack, demo-email], events: [finished, failed] }
plans:
${plans.map((id) => `  - { id: ${id}, name: "${sim.world.plan(id)?.name ?? id}" }`).join('\n')}
instances:
  - { id: ${instance}, region: cn-hangzhou, name: "orders db (advanced download)", linkValidity: 2h }
channels:
  demo-slack: { type: slack, webhookUrl: "${slack.url(SLACK_PATH)}", mentionOnFailure: "<!here>" }
  demo-email: { type: email, smtpUrl: "${smtp.url}", from: "dbswatch demo <dbswatch@example.com>", to: [dba@example.com] }
notify: { backoff: 1s, maxBackoff: 10s, digestThreshold: 5 }
http: { port: ${options.httpPort ?? 9464}, host: 127.0.0.1 }
shutdown: { deadline: 10s }
`;
  const log = createLogger({ level: options.logLevel ?? options.env.LOG_LEVEL ?? 'warn', format: options.env.LOG_FORMAT });
  /** Everything the demo started, and every key it wrote, goes again — also when it could not start. */
  const cleanUp = async () => {
    await Promise.allSettled([sim.close(), slack.close(), smtp.close()]);
    await deleteKeys(redis.url, prefix).catch(() => {});
    await redis.stop();
  };
  let role: Awaited<ReturnType<typeof startRole>>;
  try {
    role = await startRole({
      role: 'run',
      config: parseConfig(yaml, {}, 'demo'),
      env: options.env,
      log,
      handleSignals: false,
      dbsCredential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
    });
  } catch (error) {
    await cleanUp();
    const why = error instanceof Error ? error.message : String(error);
    const hint = /http\.port/.test(why) ? ' (demo: --port <n>, or --port 0 for any free port)' : '';
    process.stderr.write(`dbswatch demo cannot start: ${why}${hint}; nothing was sent and its Redis keys (${prefix}:*) are removed\n`);
    return 1;
  }

  print(
    [
      'dbswatch demo',
      `  DBS simulator   ${sim.url}  (${plans.length} plans: ${plans.join(', ')}; 1 instance: ${instance})`,
      `  Slack sink      ${slack.url(SLACK_PATH)}`,
      `  SMTP sink       ${smtp.url}  (emails saved in ${outputDir})`,
      `  Redis           ${redis.source}, key prefix ${prefix}`,
      role.http ? `  Status & metrics ${role.http.url}/metrics  ${role.http.url}/readyz` : '',
      '',
      'Each plan and the instance are polled every 5 s. The first poll records history silently; over the next',
      'minute downloads finish and fail, and each one is announced here exactly once.',
      'Press Ctrl-C to stop.',
    ]
      .filter((line) => line !== undefined)
      .join('\n'),
  );

  let stopping: Promise<number> | undefined;
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      print(`\nstopping (${reason}) — ${delivered} message(s) delivered`);
      try {
        await role.shutdown.run(reason);
      } finally {
        await cleanUp();
      }
      return 0;
    })();
    return stopping;
  };

  return new Promise<number>((resolveExit) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(1);
      void stop(signal).then(resolveExit);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (options.durationMs !== undefined) {
      setTimeout(() => void stop('demo duration reached').then(resolveExit), options.durationMs).unref();
    }
  });
}

/**
 * One RDS instance with "advanced download" tasks (API 2021-01-01) beside the plans: history,
 * then over the first minute a URL download finishes (links minted at send time), one
 * written to an OSS bucket finishes, and one fails.
 */
function addDemoInstance(sim: Awaited<ReturnType<typeof startSimulator>>): string {
  const id = 'rm-demoorders01';
  const w = sim.world2021;
  w.addInstance({ instanceName: id, region: 'cn-hangzhou' });
  const now = sim.world.now();
  w.addTask(id, { DownloadStatus: 'finished', GmtCreate: now - 26 * 3_600_000, DbList: '[orders]' });
  w.addTask(id, {
    DownloadStatus: 'initializing',
    DbList: '[orders]',
    steps: [
      { atMs: 8_000, status: 'queueing' },
      { atMs: 15_000, status: 'running' },
      { atMs: 30_000, status: 'finished' },
    ],
  });
  w.addTask(id, {
    DownloadStatus: 'running',
    TargetType: 'OSS',
    TargetPath: 'exports/orders-2026',
    DbList: '[orders]',
    steps: [{ atMs: 22_000, status: 'finished' }],
  });
  w.addTask(id, {
    DownloadStatus: 'queueing',
    Format: 'SQL',
    DbList: '[billing]',
    steps: [
      { atMs: 12_000, status: 'running' },
      { atMs: 40_000, status: 'failed' },
    ],
  });
  return id;
}
