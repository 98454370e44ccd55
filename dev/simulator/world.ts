/**
 * The simulator's in-memory world: backup plans, their download tasks, the
 * task state machine and a ledger of every status change (what tests compare
 * dbswatch's notifications against).
 *
 * Sized for the benchmark (1,000 plans × 1,000 tasks): each plan keeps its
 * tasks oldest-first in an array, so an append is O(1) and a newest-first
 * page read is O(pageSize) from the end — new tasks push older ones to later
 * pages, as in the real list. Download URLs are derived on demand, not stored.
 */
import { createHash } from 'node:crypto';

/** One scripted status change of a task, `atMs` after the simulator started. */
export interface SimStep {
  atMs: number;
  status: string;
  errMessage?: string;
}

/** A recorded status change. */
export interface SimEvent {
  planId: string;
  taskId: string;
  from: string;
  to: string;
  /** Epoch ms (world clock). For a timeline step, the time it was due. */
  at: number;
}

/** A backup plan. */
export interface SimPlan {
  planId: string;
  /** Default: the plan id. */
  name: string;
  /** Default: MySQL. */
  dbType: string;
  /** Default: running. */
  status: string;
  /** Default: cn-hangzhou. */
  region: string;
  /** Default: false. */
  autoDownload: boolean;
  /** `ResourceGroupId` (DescribeBackupPlanList filter). Default: none. */
  resourceGroupId?: string;
}

/** What a caller may set when adding a task; everything has a default. */
export interface SimTaskInput {
  /** Default: a random 12-character id from the seeded PRNG. */
  taskId: string;
  /** Default: `<backupSetId>-ManualFull` / `-AutoCont` etc. (derived from the id). */
  name: string;
  /** Default: checking. */
  status: string;
  /** `manual` (default) or `auto`. */
  downloadWay: string;
  /** Bytes. Default: random. */
  dataSize: number;
  /** Default: Native for incremental, CSV for full. */
  dataFormat: string;
  /** `cbs_backup_sub_full` or `cbs_backup_sub_cont` (default: random). */
  jobType: string;
  backupSetId: string;
  backupSetCode: string;
  /** Default: the plan's dbType. */
  dbType: string;
  /** Epoch ms. Default: now (world clock). */
  createdAt: number;
  /** Epoch ms; set automatically when the task reaches finish/stop/init. */
  finishedAt: number;
  errMessage: string;
  /** `auto` only. Default: /data/dbs-backup. */
  downloadDir: string;
  /** `auto` only. Default: random. */
  gatewayId: number;
  /** A scripted timeline, or `'random'` for a seeded random path to a terminal state. */
  steps: SimStep[] | 'random';
  /** For `steps: 'random'`: first step this many ms after now (relative to start). Default 0–5 s. */
  randomStartMs: number;
  /** For `steps: 'random'`: mean gap between steps. Default 5 s. */
  randomGapMs: number;
  /**
   * A manual task whose URLs DBS has not filled in yet (documented: URLs appear only once the
   * conversion is complete, which can be after `finish`). Default false; `withholdLinks()` changes it.
   */
  withholdLinks: boolean;
}

/**
 * Pre-signed OSS URL shape (both documented by OSS): `v1` = `Expires=<epoch s>&OSSAccessKeyId&Signature`,
 * `v4` = `x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential&x-oss-date&x-oss-expires&x-oss-signature`,
 * `mixed` = V4 for every other task. Default v1 (what earlier tests were written against).
 */
export type UrlSignature = 'v1' | 'v4' | 'mixed';

/** Lifetime the simulator gives its pre-signed URLs (invented: DBS does not document one). 3 days. */
export const SIM_URL_LIFETIME_S = 3 * 86_400;

/**
 * A download task in DBS field names. Download URLs are computed from the
 * task (pre-signed-looking, scheme-less as the real API sends them) and only
 * for a finished `manual` task; `JSON.stringify` includes them.
 */
export interface SimTask {
  readonly BackupSetDownloadTaskId: string;
  BackupSetDownloadTaskName: string;
  readonly BackupPlanId: string;
  BackupSetId: string;
  BackupSetCode: string;
  BackupSetDbType: string;
  BackupSetJobType: string;
  BackupSetDataFormat: string;
  BackupSetDataSize: number;
  BackupSetDownloadStatus: string;
  BackupSetDownloadWay: string;
  readonly BackupSetDownloadInternetUrl: string | undefined;
  readonly BackupSetDownloadIntranetUrl: string | undefined;
  BackupSetDownloadTargetType: string | undefined;
  BackupSetDownloadDir: string | undefined;
  BackupGatewayId: number | undefined;
  BackupSetDownloadCreateTime: number;
  BackupSetDownloadFinishTime: number | undefined;
  ErrMessage: string | undefined;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['finish', 'stop', 'init']);

/** The transitions the real service makes. `setStatus` accepts others unless the world is strict. */
export const ALLOWED_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  checking: ['check_pass', 'init', 'pause'],
  check_pass: ['schedule', 'pause'],
  schedule: ['running', 'pause', 'stop'],
  running: ['finish', 'stop', 'pause'],
  pause: ['schedule', 'running', 'stop'],
  init: [],
  finish: [],
  stop: [],
};

export function isAllowedTransition(from: string, to: string): boolean {
  return ALLOWED_TRANSITIONS[from]?.includes(to) ?? false;
}

/** Realistic `ErrMessage` values of stopped / failed-precheck tasks. */
export const SAMPLE_ERRORS = [
  'java.lang.IndexOutOfBoundsException.',
  'DBS.BackupSetDownload.Failed: OSS object not found for backup set, it may have expired.',
  'backup gateway offline: agent heartbeat lost for 600s',
  'precheck failed: source backup set is not in a downloadable state',
  'disk full: no space left on device while writing /data/dbs-backup',
];

/** Small, fast, seedable PRNG (mulberry32). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

class TaskRecord implements SimTask {
  // Name, backup set id and code are derived from the id unless set: a million
  // tasks should not hold three million generated strings.
  private name: string | undefined;
  private setId: string | undefined;
  private code: string | undefined;
  BackupSetDbType: string;
  BackupSetJobType: string;
  BackupSetDataFormat: string;
  BackupSetDataSize: number;
  BackupSetDownloadStatus: string;
  BackupSetDownloadWay: string;
  BackupSetDownloadTargetType: string | undefined;
  BackupSetDownloadDir: string | undefined;
  BackupGatewayId: number | undefined;
  BackupSetDownloadCreateTime: number;
  BackupSetDownloadFinishTime: number | undefined;
  ErrMessage: string | undefined;
  /** Creation order across the world; also picks which wire quirks this task shows. */
  readonly seq: number;
  /** True while DBS has not filled in the URLs of this finished manual task. */
  linksWithheld = false;
  /** Shared with the world: the URL shape to serve. */
  private readonly settings: { urlSignature: UrlSignature };

  constructor(
    readonly BackupSetDownloadTaskId: string,
    readonly BackupPlanId: string,
    fields: Omit<
      SimTask,
      | 'BackupSetDownloadTaskId'
      | 'BackupPlanId'
      | 'BackupSetDownloadInternetUrl'
      | 'BackupSetDownloadIntranetUrl'
      | 'BackupSetDownloadTaskName'
      | 'BackupSetId'
      | 'BackupSetCode'
    > & { name: string | undefined; setId: string | undefined; code: string | undefined },
    seq: number,
    settings: { urlSignature: UrlSignature } = { urlSignature: 'v1' },
  ) {
    this.settings = settings;
    this.name = fields.name;
    this.setId = fields.setId;
    this.code = fields.code;
    this.BackupSetDbType = fields.BackupSetDbType;
    this.BackupSetJobType = fields.BackupSetJobType;
    this.BackupSetDataFormat = fields.BackupSetDataFormat;
    this.BackupSetDataSize = fields.BackupSetDataSize;
    this.BackupSetDownloadStatus = fields.BackupSetDownloadStatus;
    this.BackupSetDownloadWay = fields.BackupSetDownloadWay;
    this.BackupSetDownloadTargetType = fields.BackupSetDownloadTargetType;
    this.BackupSetDownloadDir = fields.BackupSetDownloadDir;
    this.BackupGatewayId = fields.BackupGatewayId;
    this.BackupSetDownloadCreateTime = fields.BackupSetDownloadCreateTime;
    this.BackupSetDownloadFinishTime = fields.BackupSetDownloadFinishTime;
    this.ErrMessage = fields.ErrMessage;
    this.seq = seq;
  }

  get BackupSetId(): string {
    return this.setId ?? `${this.BackupSetDownloadTaskId.slice(0, 9)}bs${(this.seq % 100).toString().padStart(2, '0')}`;
  }
  set BackupSetId(value: string) {
    this.setId = value;
  }

  get BackupSetDownloadTaskName(): string {
    if (this.name !== undefined) return this.name;
    const way = this.BackupSetDownloadWay === 'auto' ? 'Auto' : 'Manual';
    return `${this.BackupSetId}-${way}${this.BackupSetJobType === 'cbs_backup_sub_full' ? 'Full' : 'Cont'}`;
  }
  set BackupSetDownloadTaskName(value: string) {
    this.name = value;
  }

  get BackupSetCode(): string {
    if (this.code !== undefined) return this.code;
    return this.BackupSetJobType === 'cbs_backup_sub_full' ? `full_${this.BackupSetId}` : `mysql-bin.${(100000 + (this.seq % 900000)).toString().slice(1)}`;
  }
  set BackupSetCode(value: string) {
    this.code = value;
  }

  private url(internal: boolean): string | undefined {
    if (this.BackupSetDownloadStatus !== 'finish' || this.BackupSetDownloadWay !== 'manual' || this.linksWithheld) return undefined;
    const id = this.BackupSetDownloadTaskId;
    const signedAtS = Math.floor((this.BackupSetDownloadFinishTime ?? this.BackupSetDownloadCreateTime) / 1000);
    const signature = createHash('sha1').update(`${id}/${internal}`).digest('base64');
    const host = `dbs-1372${this.BackupPlanId.length}${this.seq % 1000}-cn-hangzhou-${this.BackupPlanId}.oss-cn-hangzhou${internal ? '-internal' : ''}.example`;
    const ext = this.BackupSetDataFormat === 'Native' ? 'tar.gz' : 'zip';
    const base = `//${host}/download/${this.BackupSetId}/${id}.${ext}`;
    const style = this.settings.urlSignature;
    if (style === 'v4' || (style === 'mixed' && this.seq % 2 === 1)) {
      const date = new Date(signedAtS * 1000)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      const day = date.slice(0, 8);
      const credential = encodeURIComponent(`LTAI5tSimFakeKey${this.seq % 97}/${day}/cn-hangzhou/oss/aliyun_v4_request`);
      const hex = createHash('sha256').update(`${id}/${internal}`).digest('hex');
      return `${base}?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=${credential}&x-oss-date=${date}&x-oss-expires=${SIM_URL_LIFETIME_S}&x-oss-signature=${hex}`;
    }
    return `${base}?Expires=${signedAtS + SIM_URL_LIFETIME_S}&OSSAccessKeyId=LTAI5tSimFakeKey${this.seq % 97}&Signature=${encodeURIComponent(signature)}`;
  }

  get BackupSetDownloadInternetUrl(): string | undefined {
    return this.url(false);
  }

  get BackupSetDownloadIntranetUrl(): string | undefined {
    return this.url(true);
  }

  toJSON(): SimTask {
    return toPlainTask(this);
  }
}

/** A plain-object copy of a task, URL fields included. */
export function toPlainTask(task: SimTask): SimTask {
  return {
    BackupSetDownloadTaskId: task.BackupSetDownloadTaskId,
    BackupSetDownloadTaskName: task.BackupSetDownloadTaskName,
    BackupPlanId: task.BackupPlanId,
    BackupSetId: task.BackupSetId,
    BackupSetCode: task.BackupSetCode,
    BackupSetDbType: task.BackupSetDbType,
    BackupSetJobType: task.BackupSetJobType,
    BackupSetDataFormat: task.BackupSetDataFormat,
    BackupSetDataSize: task.BackupSetDataSize,
    BackupSetDownloadStatus: task.BackupSetDownloadStatus,
    BackupSetDownloadWay: task.BackupSetDownloadWay,
    BackupSetDownloadInternetUrl: task.BackupSetDownloadInternetUrl,
    BackupSetDownloadIntranetUrl: task.BackupSetDownloadIntranetUrl,
    BackupSetDownloadTargetType: task.BackupSetDownloadTargetType,
    BackupSetDownloadDir: task.BackupSetDownloadDir,
    BackupGatewayId: task.BackupGatewayId,
    BackupSetDownloadCreateTime: task.BackupSetDownloadCreateTime,
    BackupSetDownloadFinishTime: task.BackupSetDownloadFinishTime,
    ErrMessage: task.ErrMessage,
  };
}

interface PendingStep {
  dueMs: number;
  /** Tie-breaker: steps of one task apply in order. */
  order: number;
  taskId: string;
  step: SimStep;
}

/** Binary min-heap of pending timeline steps, by due time then order. */
class StepHeap {
  private readonly items: PendingStep[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: PendingStep, b: PendingStep): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.order < b.order);
  }
  push(item: PendingStep): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as PendingStep;
      if (!this.less(item, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }
  peek(): PendingStep | undefined {
    return this.items[0];
  }
  pop(): PendingStep | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.less(h[r] as PendingStep, h[l] as PendingStep) ? r : l;
      if (!this.less(h[c] as PendingStep, last)) break;
      h[i] = h[c] as PendingStep;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

export interface SimWorldOptions {
  /** Seed of the PRNG behind ids, sizes and random timelines. Default 1. */
  seed?: number;
  /** `real` (default): time is Date.now(). `manual`: time moves only through tick()/advance(). */
  clock?: 'real' | 'manual';
  /** The simulator's start (epoch ms); timeline steps are relative to it. Default: now. */
  startMs?: number;
  /** Reject transitions the real service never makes (setStatus and steps). Default false. */
  strictTransitions?: boolean;
  /** Shape of the pre-signed URLs. Default `v1`. */
  urlSignature?: UrlSignature;
}

/** Values of `tick(nowMs)` below this are taken as ms since start rather than epoch ms. */
const RELATIVE_TICK_LIMIT = 1e11;

export class SimWorld {
  readonly startMs: number;
  readonly clock: 'real' | 'manual';
  readonly strictTransitions: boolean;
  /** Every status change, in order. */
  readonly events: SimEvent[] = [];
  readonly random: () => number;

  private manualNow: number;
  private readonly plans = new Map<string, SimPlan>();
  /** Per plan, oldest first. */
  private readonly lists = new Map<string, TaskRecord[]>();
  private readonly byId = new Map<string, TaskRecord>();
  private readonly pending = new StepHeap();
  private stepOrder = 0;
  private seq = 0;
  /** Shared with every task: changing `urlSignature` changes the URLs served from then on. */
  readonly settings: { urlSignature: UrlSignature };

  constructor(options: SimWorldOptions = {}) {
    this.settings = { urlSignature: options.urlSignature ?? 'v1' };
    this.startMs = options.startMs ?? Date.now();
    this.clock = options.clock ?? 'real';
    this.strictTransitions = options.strictTransitions ?? false;
    this.manualNow = this.startMs;
    this.random = mulberry32(options.seed ?? 1);
  }

  /** Current world time, epoch ms. */
  now(): number {
    return this.clock === 'manual' ? this.manualNow : Date.now();
  }

  /** Ms since the simulator started (world clock). */
  elapsedMs(): number {
    return this.now() - this.startMs;
  }

  addPlan(plan: { planId: string; name?: string; dbType?: string; status?: string; region?: string; autoDownload?: boolean; resourceGroupId?: string }): void {
    if (!plan.planId) throw new Error('planId is required');
    if (this.plans.has(plan.planId)) throw new Error(`plan ${plan.planId} already exists`);
    this.plans.set(plan.planId, {
      planId: plan.planId,
      name: plan.name ?? plan.planId,
      dbType: plan.dbType ?? 'MySQL',
      status: plan.status ?? 'running',
      region: plan.region ?? 'cn-hangzhou',
      autoDownload: plan.autoDownload ?? false,
      ...(plan.resourceGroupId ? { resourceGroupId: plan.resourceGroupId } : {}),
    });
    this.lists.set(plan.planId, []);
  }

  hasPlan(planId: string): boolean {
    return this.plans.has(planId);
  }

  plan(planId: string): SimPlan | undefined {
    return this.plans.get(planId);
  }

  planIds(): string[] {
    return [...this.plans.keys()];
  }

  allPlans(): SimPlan[] {
    return [...this.plans.values()];
  }

  /** Number of tasks in a plan (0 for an unknown plan). */
  taskCount(planId: string): number {
    return this.lists.get(planId)?.length ?? 0;
  }

  get totalTasks(): number {
    return this.byId.size;
  }

  task(taskId: string): SimTask | undefined {
    return this.byId.get(taskId);
  }

  /** The plan's tasks, newest first (the list's order). */
  tasksOf(planId: string): SimTask[] {
    const list = this.lists.get(planId);
    if (!list) throw new Error(`unknown plan ${planId}`);
    return [...list].reverse();
  }

  /** One page of the newest-first list, in O(pageSize). `pageNum` is 0-based. */
  page(planId: string, pageNum: number, pageSize: number): { total: number; items: SimTask[] } {
    const list = this.lists.get(planId);
    if (!list) throw new Error(`unknown plan ${planId}`);
    const total = list.length;
    const items: SimTask[] = [];
    const first = pageNum * pageSize;
    for (let i = first; i < first + pageSize && i < total; i++) {
      const task = list[total - 1 - i];
      if (task) items.push(task);
    }
    return { total, items };
  }

  private newId(): string {
    const codes: number[] = new Array(12);
    for (;;) {
      for (let i = 0; i < 12; i++) codes[i] = ID_CHARS.charCodeAt(Math.floor(this.random() * ID_CHARS.length));
      // fromCharCode gives one flat string (a += loop would leave a chain of cons strings per id).
      const id = String.fromCharCode(...codes);
      if (!this.byId.has(id)) return id;
    }
  }

  addTask(planId: string, input: Partial<SimTaskInput> = {}): SimTask {
    const plan = this.plans.get(planId);
    const list = this.lists.get(planId);
    if (!plan || !list) throw new Error(`unknown plan ${planId}`);
    const taskId = input.taskId ?? this.newId();
    if (this.byId.has(taskId)) throw new Error(`task ${taskId} already exists`);
    const rnd = this.random;
    const way = input.downloadWay ?? 'manual';
    const jobType = input.jobType ?? (rnd() < 0.3 ? 'cbs_backup_sub_full' : 'cbs_backup_sub_cont');
    const full = jobType === 'cbs_backup_sub_full';
    const status = input.status ?? 'checking';
    const createdAt = input.createdAt ?? this.now();
    const terminal = TERMINAL_STATUSES.has(status);
    const record = new TaskRecord(
      taskId,
      planId,
      {
        name: input.name,
        setId: input.backupSetId,
        code: input.backupSetCode,
        BackupSetDbType: input.dbType ?? plan.dbType,
        BackupSetJobType: jobType,
        BackupSetDataFormat: input.dataFormat ?? (full ? 'CSV' : 'Native'),
        BackupSetDataSize: input.dataSize ?? Math.floor(rnd() * 5e9) + 1024,
        BackupSetDownloadStatus: status,
        BackupSetDownloadWay: way,
        BackupSetDownloadTargetType: way === 'auto' ? 'agent' : undefined,
        BackupSetDownloadDir: way === 'auto' ? (input.downloadDir ?? '/data/dbs-backup') : undefined,
        BackupGatewayId: way === 'auto' ? (input.gatewayId ?? 1_000_000 + Math.floor(rnd() * 9_000_000)) : undefined,
        BackupSetDownloadCreateTime: createdAt,
        BackupSetDownloadFinishTime: input.finishedAt ?? (terminal ? createdAt + 60_000 : undefined),
        ErrMessage: input.errMessage ?? (status === 'stop' || status === 'init' ? this.sampleError() : undefined),
      },
      this.seq++,
      this.settings,
    );
    if (input.withholdLinks) record.linksWithheld = true;
    list.push(record);
    this.byId.set(taskId, record);
    const steps = input.steps === 'random' ? this.randomSteps(status, input) : input.steps;
    if (steps) {
      if (this.strictTransitions) {
        let from = status;
        for (const step of steps) {
          this.assertTransition(from, step.status);
          from = step.status;
        }
      }
      for (const step of steps) {
        this.pending.push({ dueMs: this.startMs + step.atMs, order: this.stepOrder++, taskId, step });
      }
    }
    return record;
  }

  addTasks(planId: string, count: number, input: Partial<SimTaskInput> = {}): SimTask[] {
    if (input.taskId !== undefined && count > 1) throw new Error('taskId cannot be shared by several tasks');
    const out: SimTask[] = [];
    for (let i = 0; i < count; i++) out.push(this.addTask(planId, input));
    return out;
  }

  private sampleError(): string {
    return SAMPLE_ERRORS[Math.floor(this.random() * SAMPLE_ERRORS.length)] ?? 'unknown error';
  }

  private assertTransition(from: string, to: string): void {
    if (!isAllowedTransition(from, to)) throw new Error(`impossible transition ${from} → ${to}`);
  }

  /** A seeded random path from `status` to a terminal state, mostly to finish. */
  private randomSteps(status: string, input: Partial<SimTaskInput>): SimStep[] {
    const rnd = this.random;
    const gap = input.randomGapMs ?? 5_000;
    let at = this.elapsedMs() + (input.randomStartMs ?? Math.floor(rnd() * 5_000));
    const steps: SimStep[] = [];
    let current = status;
    const next = (to: string, errMessage?: string) => {
      at += Math.max(1, Math.floor(gap * (0.5 + rnd())));
      steps.push(errMessage === undefined ? { atMs: at, status: to } : { atMs: at, status: to, errMessage });
      current = to;
    };
    for (let guard = 0; guard < 20 && !TERMINAL_STATUSES.has(current); guard++) {
      const r = rnd();
      switch (current) {
        case 'checking':
          if (r < 0.05) next('init', 'precheck failed: source backup set is not in a downloadable state');
          else next('check_pass');
          break;
        case 'check_pass':
          next('schedule');
          break;
        case 'schedule':
          next('running');
          break;
        case 'running':
          if (r < 0.08) next('stop', this.sampleError());
          else if (r < 0.1) next('pause');
          else next('finish');
          break;
        case 'pause':
          next(r < 0.5 ? 'schedule' : 'running');
          break;
        default:
          // An unknown status: move it back into the machine.
          next('schedule');
      }
    }
    return steps;
  }

  /** Moves a task to `status` now (any status unless the world is strict) and records it in the ledger. */
  setStatus(taskId: string, status: string, extra: { errMessage?: string; at?: number } = {}): void {
    const task = this.byId.get(taskId);
    if (!task) throw new Error(`unknown task ${taskId}`);
    if (this.strictTransitions) this.assertTransition(task.BackupSetDownloadStatus, status);
    this.apply(task, status, extra.errMessage, extra.at ?? this.now());
  }

  private apply(task: TaskRecord, status: string, errMessage: string | undefined, at: number): void {
    const from = task.BackupSetDownloadStatus;
    if (from === status) return;
    task.BackupSetDownloadStatus = status;
    if (TERMINAL_STATUSES.has(status)) task.BackupSetDownloadFinishTime = at;
    else task.BackupSetDownloadFinishTime = undefined;
    if (status === 'stop' || status === 'init') task.ErrMessage = errMessage ?? task.ErrMessage ?? this.sampleError();
    else if (errMessage !== undefined) task.ErrMessage = errMessage;
    this.events.push({ planId: task.BackupPlanId, taskId: task.BackupSetDownloadTaskId, from, to: status, at });
  }

  /** Withholds (or releases) the URLs of a manual task: `finish` without links, as DBS can answer. */
  withholdLinks(taskId: string, withheld = true): void {
    const task = this.byId.get(taskId);
    if (!task) throw new Error(`unknown task ${taskId}`);
    task.linksWithheld = withheld;
  }

  removeTask(taskId: string): void {
    const task = this.byId.get(taskId);
    if (!task) throw new Error(`unknown task ${taskId}`);
    this.byId.delete(taskId);
    const list = this.lists.get(task.BackupPlanId);
    if (list) {
      const i = list.lastIndexOf(task);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /**
   * Shuffles a plan's list (seeded): DBS is assumed, not documented, to list
   * newest first; this is the world where that assumption fails. Tasks added
   * later still go on top.
   */
  shuffleTasks(planId: string): void {
    const list = this.lists.get(planId);
    if (!list) throw new Error(`unknown plan ${planId}`);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const a = list[i] as TaskRecord;
      list[i] = list[j] as TaskRecord;
      list[j] = a;
    }
  }

  /** Moves the manual clock forward by `ms` and applies due steps. */
  advance(ms: number): number {
    return this.tick(this.now() + ms);
  }

  /**
   * Applies every timeline step due by `nowMs` (epoch ms; a value below 1e11
   * is read as ms since start) or, without it, by the world clock. A manual
   * clock moves forward to `nowMs` (never back). Returns how many applied.
   */
  tick(nowMs?: number): number {
    let target = nowMs ?? this.now();
    if (target < RELATIVE_TICK_LIMIT) target += this.startMs;
    if (this.clock === 'manual' && target > this.manualNow) this.manualNow = target;
    let applied = 0;
    for (let next = this.pending.peek(); next && next.dueMs <= target; next = this.pending.peek()) {
      this.pending.pop();
      const task = this.byId.get(next.taskId);
      if (!task) continue; // removed meanwhile
      this.apply(task, next.step.status, next.step.errMessage, next.dueMs);
      applied++;
    }
    return applied;
  }

  /** Timeline steps still to come. */
  get pendingSteps(): number {
    return this.pending.size;
  }

  /** Removes every task of a plan and the plan. */
  removePlan(planId: string): void {
    const list = this.lists.get(planId);
    if (!list) throw new Error(`unknown plan ${planId}`);
    for (const task of list) this.byId.delete(task.BackupSetDownloadTaskId);
    this.lists.delete(planId);
    this.plans.delete(planId);
  }
}

/** Position of a task among all tasks ever created; picks its wire quirks. */
export function taskSeq(task: SimTask): number {
  return task instanceof TaskRecord ? task.seq : 0;
}
