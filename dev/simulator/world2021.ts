/**
 * The 2021-01-01 half of the simulator's world: database instances and their
 * "advanced download" tasks (shared/reference/dbs-2021-downloads.md). It runs
 * on the 2019 world's clock (`SimWorld.now()`), so a manual clock moves both.
 *
 * Documented behaviour: the six states; `finished` URL-target tasks become
 * `expired` three days after they finish; only `failed` tasks can be retried.
 * Marked (inferred) where the reference says a behaviour is not documented.
 */
import type { SimWorld } from './world.js';

/** The six documented states. */
export const SIM_ADVANCED_STATES = ['initializing', 'queueing', 'running', 'failed', 'finished', 'expired'] as const;

/** Documented: URL results expire three days after the task finishes. */
export const RESULT_LIFETIME_MS = 3 * 86_400_000;

/** An instance that has advanced download tasks. */
export interface SimInstance {
  instanceName: string;
  /** RegionCode. Default cn-hangzhou. */
  region: string;
  /** DescribeDownloadSupport's answer. Default true. */
  supported: boolean;
}

/** One scripted state change, `atMs` after the task was added. */
export interface SimAdvancedStep {
  atMs: number;
  status: string;
}

/** An advanced download task, values in their natural types (the wire turns them into strings). */
export interface SimAdvancedTask {
  readonly TaskId: string;
  readonly instanceName: string;
  RegionCode: string;
  BakSetId: string;
  /** `full` or `pitr`. */
  taskType: 'full' | 'pitr';
  BackupSetTime: number;
  DownloadStatus: string;
  Progress: string;
  Format: string;
  TargetType: 'URL' | 'OSS';
  TargetPath: string;
  ExportDataSize: number;
  ImportDataSize: number;
  DbList: string;
  GmtCreate: number;
  /** When it reached `finished` (not on the wire: DBS reports no finish time). */
  finishedAt?: number;
  /** Creation order; picks wire quirks. */
  readonly seq: number;
}

/** A recorded state change (the ledger tests compare notifications against). */
export interface SimAdvancedEvent {
  instanceName: string;
  taskId: string;
  from: string;
  to: string;
  at: number;
}

/** A DescribeDownloadTask query, already validated. */
export interface AdvancedListQuery {
  instanceName: string;
  state?: string;
  taskType?: string;
  backupSetId?: string;
  startTime?: number;
  endTime?: number;
  order: 'asc' | 'desc';
  currentPage: number;
  pageSize: number;
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class SimWorld2021 {
  readonly events: SimAdvancedEvent[] = [];
  /** Actions RAM denies (answered 403 Request.Forbidden). */
  readonly deniedActions = new Set<string>();
  /** Unit of `ExpirationTime` in minted-link answers: seconds (the official example) or ms (the SDK docs). Default s. */
  expirationUnit: 's' | 'ms' = 's';
  private readonly instances = new Map<string, SimInstance>();
  private readonly tasks = new Map<string, SimAdvancedTask>();
  private readonly pending: { dueMs: number; taskId: string; status: string }[] = [];
  private seq = 0;

  constructor(private readonly world: Pick<SimWorld, 'now' | 'random'>) {}

  now(): number {
    return this.world.now();
  }

  addInstance(input: { instanceName: string; region?: string; supported?: boolean }): SimInstance {
    const instance = { instanceName: input.instanceName, region: input.region ?? 'cn-hangzhou', supported: input.supported ?? true };
    this.instances.set(instance.instanceName, instance);
    return instance;
  }

  instance(name: string): SimInstance | undefined {
    return this.instances.get(name);
  }

  allInstances(): SimInstance[] {
    return [...this.instances.values()];
  }

  task(taskId: string): SimAdvancedTask | undefined {
    return this.tasks.get(taskId);
  }

  tasksOf(instanceName: string): SimAdvancedTask[] {
    return [...this.tasks.values()].filter((t) => t.instanceName === instanceName);
  }

  private newId(): string {
    for (;;) {
      let id = 'dt-';
      for (let i = 0; i < 12; i++) id += ID_CHARS[Math.floor(this.world.random() * ID_CHARS.length)];
      if (!this.tasks.has(id)) return id;
    }
  }

  /** Adds a task (as CreateDownload would); `steps` script later state changes relative to now. */
  addTask(instanceName: string, input: Partial<Omit<SimAdvancedTask, 'seq' | 'instanceName'>> & { steps?: SimAdvancedStep[] } = {}): SimAdvancedTask {
    const instance = this.instances.get(instanceName);
    if (!instance) throw new Error(`unknown instance ${instanceName}`);
    const now = this.now();
    const status = input.DownloadStatus ?? 'initializing';
    const task: SimAdvancedTask = {
      TaskId: input.TaskId ?? this.newId(),
      instanceName,
      RegionCode: input.RegionCode ?? instance.region,
      BakSetId: input.BakSetId ?? String(1_000_000 + Math.floor(this.world.random() * 8_999_999)),
      taskType: input.taskType ?? 'full',
      BackupSetTime: input.BackupSetTime ?? now - 3_600_000,
      DownloadStatus: status,
      Progress: input.Progress ?? (status === 'initializing' ? '0/0' : '0/12'),
      Format: input.Format ?? 'csv',
      TargetType: input.TargetType ?? 'URL',
      TargetPath: input.TargetPath ?? (input.TargetType === 'OSS' ? 'dbs_download/path' : ''),
      ExportDataSize: input.ExportDataSize ?? Math.floor(this.world.random() * 5_000_000_000),
      ImportDataSize: input.ImportDataSize ?? Math.floor(this.world.random() * 5_000_000_000),
      DbList: input.DbList ?? '[appdb]',
      GmtCreate: input.GmtCreate ?? now,
      ...(status === 'finished' ? { finishedAt: input.finishedAt ?? now } : {}),
      seq: this.seq++,
    };
    this.tasks.set(task.TaskId, task);
    for (const step of input.steps ?? []) this.pending.push({ dueMs: now + step.atMs, taskId: task.TaskId, status: step.status });
    this.pending.sort((a, b) => a.dueMs - b.dueMs);
    return task;
  }

  /** Moves a task to `status` now (recorded in the ledger). */
  setStatus(taskId: string, status: string, at = this.now()): void {
    const task = this.tasks.get(taskId);
    if (!task) throw new Error(`unknown task ${taskId}`);
    if (task.DownloadStatus === status) return;
    this.events.push({ instanceName: task.instanceName, taskId, from: task.DownloadStatus, to: status, at });
    task.DownloadStatus = status;
    if (status === 'running') task.Progress = '3/12';
    if (status === 'finished') {
      task.Progress = '12/12';
      task.finishedAt = at;
    }
  }

  /** Applies scripted steps due by now and the documented 3-day expiry of finished URL-target tasks. */
  tick(): void {
    const now = this.now();
    while (this.pending.length > 0 && (this.pending[0]?.dueMs ?? Infinity) <= now) {
      const step = this.pending.shift();
      if (step && this.tasks.has(step.taskId)) this.setStatus(step.taskId, step.status, step.dueMs);
    }
    for (const task of this.tasks.values()) {
      // Documented for URL targets only; whether OSS targets expire is unknown (inferred: they do not).
      if (task.DownloadStatus === 'finished' && task.TargetType === 'URL' && task.finishedAt !== undefined) {
        const expiry = task.finishedAt + RESULT_LIFETIME_MS;
        if (expiry <= now) this.setStatus(task.TaskId, 'expired', expiry);
      }
    }
  }

  /**
   * DescribeDownloadTask: filter, order by creation time, page (1-based).
   * Inferred: the State filter is case-insensitive with `queuing` = `queueing`;
   * both time bounds are inclusive.
   */
  list(query: AdvancedListQuery): { total: number; items: SimAdvancedTask[] } {
    const canonical = (s: string) => (s.toLowerCase() === 'queuing' ? 'queueing' : s.toLowerCase());
    const all = this.tasksOf(query.instanceName).filter(
      (t) =>
        (query.state === undefined || canonical(t.DownloadStatus) === canonical(query.state)) &&
        (query.taskType === undefined || t.taskType === query.taskType) &&
        (query.backupSetId === undefined || t.BakSetId === query.backupSetId) &&
        (query.startTime === undefined || t.GmtCreate >= query.startTime) &&
        (query.endTime === undefined || t.GmtCreate <= query.endTime),
    );
    all.sort((a, b) => (a.GmtCreate - b.GmtCreate || a.seq - b.seq) * (query.order === 'asc' ? 1 : -1));
    const start = (query.currentPage - 1) * query.pageSize;
    return { total: all.length, items: all.slice(start, start + query.pageSize) };
  }

  /** RetryDownloadTask. Inferred: the same TaskId goes back to `initializing`. */
  retry(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) throw new Error(`unknown task ${taskId}`);
    task.Progress = '0/0';
    this.setStatus(taskId, 'initializing');
  }
}
