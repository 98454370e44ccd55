/**
 * The instance commands as an operator runs them: the `dbswatch` CLI (from
 * source, a real child process, the simulator's key through the standard
 * credential chain) against the real simulator on loopback and the real Redis
 * — check-config naming `instances:` problems by key, `tasks --instance`,
 * `poll --instance --dry-run`, and the guarded `retry-download`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { childEnv, writeConfig } from '../helpers/processes.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const ID = 'rm-clitest0001';
const REGION = 'cn-shanghai';
let sim: RunningSimulator;
let prefix: string;
let configPath: string;

/** Runs the CLI to completion without blocking this process (the simulator lives here). */
function dbswatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: childEnv({ LOG_LEVEL: 'warn' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  sim = await startSimulator();
  prefix = uniquePrefix('instances-cli');
  sim.world2021.addInstance({ instanceName: ID, region: REGION });
  sim.world2021.addTask(ID, { TaskId: 'dt-clifinished1', DownloadStatus: 'finished' });
  sim.world2021.addTask(ID, { TaskId: 'dt-clifailed001', DownloadStatus: 'failed' });
  sim.world2021.addTask(ID, { TaskId: 'dt-clioss000001', DownloadStatus: 'running', TargetType: 'OSS', TargetPath: 'exports/cli' });
  configPath = writeConfig(`
redis: { url: "${redisUrl()}", prefix: "${prefix}" }
dbs: { endpoint: "${sim.endpoint}", protocol: http }
instances: [ { id: ${ID}, region: ${REGION}, name: "cli db" } ]
channels:
  hook: { type: slack, webhookUrl: "https://hooks.example.com/services/T/B/X" }
defaults: { notify: [hook] }
http: { port: 0 }
`);
});

afterAll(async () => {
  await sim.close();
  await deletePrefix(prefix);
});

describe('instance commands', () => {
  it('check-config names the instances: problems by key', async () => {
    const bad = writeConfig(`
instances:
  - { id: rm-a, region: "Hangzhou" }
  - { id: rm-b, region: cn-hangzhou, linkValidity: 2d, notify: [nowhere] }
`);
    const result = await dbswatch(['check-config', '--config', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('instances[0].region: is not a region code');
    expect(result.stderr).toContain('instances[1].linkValidity: must be between 5m (300s) and 24h');
    expect(result.stderr).toContain('instances[1].notify[0]: unknown channel "nowhere"');
  });

  it('tasks --instance lists the advanced download tasks (table and JSON); unknown instance needs --region', async () => {
    const table = await dbswatch(['tasks', '--instance', ID, '--config', configPath]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TASK\s+STATUS/);
    expect(table.stdout).toContain('dt-clifailed001  failed');
    expect(table.stdout).toContain('OSS:exports/cli');
    const json = JSON.parse((await dbswatch(['tasks', '--instance', ID, '--json', '--config', configPath])).stdout) as { taskId: string }[];
    expect(json.map((t) => t.taskId).sort()).toEqual(['dt-clifailed001', 'dt-clifinished1', 'dt-clioss000001']);
    const unknown = await dbswatch(['tasks', '--instance', 'rm-other', '--config', configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--region');
  });

  it('poll --instance --dry-run computes the baseline and changes nothing', async () => {
    const dry = await dbswatch(['poll', '--instance', ID, '--dry-run', '--json', '--config', configPath]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ planId: `instance!${ID}`, result: 'baseline', dryRun: true, jobsEnqueued: 0 });
    const real = await dbswatch(['poll', '--instance', ID, '--json', '--config', configPath]);
    expect(JSON.parse(real.stdout)).toMatchObject({ result: 'baseline', dryRun: false });
    const again = await dbswatch(['poll', '--instance', ID, '--json', '--config', configPath]);
    expect(JSON.parse(again.stdout)).toMatchObject({ result: 'ok', transitions: [] });
  });

  it('retry-download refuses without --yes, retries with it, and reports a RAM denial', async () => {
    const refused = await dbswatch(['retry-download', 'dt-clifailed001', '--instance', ID, '--config', configPath]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('without --yes');
    expect(sim.world2021.task('dt-clifailed001')?.DownloadStatus).toBe('failed');

    sim.world2021.deniedActions.add('RetryDownloadTask');
    const denied = await dbswatch(['retry-download', 'dt-clifailed001', '--instance', ID, '--yes', '--config', configPath]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('dbs:RetryDownloadTask');
    sim.world2021.deniedActions.clear();

    const done = await dbswatch(['retry-download', 'dt-clifailed001', '--instance', ID, '--yes', '--config', configPath]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('DBS accepted the retry of dt-clifailed001');
    expect(sim.world2021.task('dt-clifailed001')?.DownloadStatus).toBe('initializing');
  });
});
