/**
 * Child processes for end-to-end tests: real `dbswatch` (from source via
 * tsx, or the built CLI) with its output captured line by line, and helpers
 * to wait for a line, signal it and collect its exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SIM_CREDENTIAL } from '../../dev/simulator/index.js';

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ManagedProcess>();

/** Env for a dbswatch child: the simulator's credentials through the standard chain. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_SIM_CREDENTIAL.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_SIM_CREDENTIAL.accessKeySecret,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Writes a config file to a temp dir and returns its path. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbswatch-test-config-'));
  const path = join(dir, 'dbswatch.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Starts `node --import tsx <script> ...args`. */
export function startTsx(script: string, args: readonly string[], env: NodeJS.ProcessEnv = childEnv()): ManagedProcess {
  return manage(spawn(process.execPath, ['--import', 'tsx', script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Starts the dbswatch CLI from source. */
export function startDbswatch(args: readonly string[], env?: NodeJS.ProcessEnv): ManagedProcess {
  return startTsx('src/cli.ts', args, env);
}

/** Starts the built CLI (`npm run build` first). */
export function startBuiltDbswatch(args: readonly string[], env: NodeJS.ProcessEnv = childEnv()): ManagedProcess {
  return manage(spawn(process.execPath, ['dist/src/cli.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function manage(child: ChildProcess): ManagedProcess {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onData = (buffer: { partial: string }) => (chunk: Buffer) => {
    const text = buffer.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    buffer.partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData({ partial: '' }));
  child.stderr?.on('data', onData({ partial: '' }));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of [...waiters]) w();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const managed: ManagedProcess = {
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((line) => pattern.test(line));
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before printing ${pattern}; output:\n${lines.slice(-30).join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${lines.slice(-30).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      running.delete(managed);
      return result;
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  return managed;
}

/** Kills every process a test left running (use in afterAll/afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}
