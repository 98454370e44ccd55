/**
 * The control API under `/_sim/` (JSON, loopback callers only — the server
 * checks that): lets tests and child-process end-to-end runs shape the world,
 * inject faults and read the ledger and the stats.
 *
 *   GET    /_sim/stats                  POST /_sim/stats/reset
 *   GET    /_sim/plans                  POST /_sim/plans {planId, name?, dbType?}
 *   GET    /_sim/plans/:planId/tasks    POST /_sim/plans/:planId/tasks {count?, tasks?: SimTaskInput[]}
 *   GET    /_sim/tasks/:taskId          POST /_sim/tasks/:taskId/status {status, errMessage?}
 *   DELETE /_sim/tasks/:taskId
 *   GET    /_sim/faults                 POST /_sim/faults FaultSpec     DELETE /_sim/faults
 *   GET    /_sim/events?since=N         POST /_sim/tick {nowMs?, advanceMs?}
 *   GET    /_sim/rules                  POST /_sim/rules {unknownPlan?, strictPageSize?, omitTotals?, urlSignature?}
 *   POST   /_sim/tasks/:taskId/links {withheld}   (finish without URLs, then with)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { type FaultSpec, faultProblem } from './faults.js';
import type { SimTaskInput } from './world.js';

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpProblem(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpProblem(400, `${key} must be a string`);
  return value;
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new HttpProblem(400, `${key} must be a number`);
  return value;
}

const TASK_INPUT_KEYS: ReadonlySet<string> = new Set<keyof SimTaskInput>([
  'taskId',
  'name',
  'status',
  'downloadWay',
  'dataSize',
  'dataFormat',
  'jobType',
  'backupSetId',
  'backupSetCode',
  'dbType',
  'createdAt',
  'finishedAt',
  'errMessage',
  'downloadDir',
  'gatewayId',
  'steps',
  'randomStartMs',
  'randomGapMs',
  'withholdLinks',
]);

function taskInput(value: unknown): Partial<SimTaskInput> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpProblem(400, 'each task must be an object');
  for (const key of Object.keys(value)) {
    if (!TASK_INPUT_KEYS.has(key)) throw new HttpProblem(400, `unknown task field "${key}"`);
  }
  const steps = (value as { steps?: unknown }).steps;
  if (steps !== undefined && steps !== 'random') {
    const ok = Array.isArray(steps) && steps.every((s) => s && typeof s === 'object' && typeof s.atMs === 'number' && typeof s.status === 'string');
    if (!ok) throw new HttpProblem(400, 'steps must be "random" or an array of {atMs, status, errMessage?}');
  }
  return value as Partial<SimTaskInput>;
}

function route(ctx: SimContext, method: string, parts: string[], url: URL, body: Buffer): [number, unknown] {
  const { world } = ctx;
  const [head, id, sub] = parts;
  const key = `${method} ${[head, id === undefined ? '' : ':id', sub ?? ''].filter(Boolean).join('/')}`;
  switch (key) {
    case 'GET stats':
      return [200, ctx.stats.snapshot()];
    case 'POST stats/:id':
      if (id !== 'reset') break;
      ctx.stats.reset();
      return [200, { ok: true }];
    case 'GET plans':
      return [200, { plans: world.allPlans().map((p) => ({ ...p, taskCount: world.taskCount(p.planId) })) }];
    case 'POST plans': {
      const input = parseJson(body);
      const planId = optionalString(input, 'planId');
      if (!planId) throw new HttpProblem(400, 'planId is required');
      if (world.hasPlan(planId)) throw new HttpProblem(409, `plan ${planId} already exists`);
      const name = optionalString(input, 'name');
      const dbType = optionalString(input, 'dbType');
      world.addPlan({ planId, ...(name !== undefined ? { name } : {}), ...(dbType !== undefined ? { dbType } : {}) });
      return [201, { plan: world.plan(planId) }];
    }
    case 'GET plans/:id/tasks': {
      if (!id || !world.hasPlan(id)) throw new HttpProblem(404, `unknown plan ${id}`);
      return [200, { tasks: world.tasksOf(id) }];
    }
    case 'POST plans/:id/tasks': {
      if (!id || !world.hasPlan(id)) throw new HttpProblem(404, `unknown plan ${id}`);
      const input = parseJson(body);
      const count = optionalNumber(input, 'count');
      if (count !== undefined && (!Number.isInteger(count) || count < 0 || count > 1_000_000)) {
        throw new HttpProblem(400, 'count must be an integer between 0 and 1000000');
      }
      const tasks = input.tasks;
      if (tasks !== undefined && !Array.isArray(tasks)) throw new HttpProblem(400, 'tasks must be an array');
      const inputs = (tasks ?? []).map(taskInput);
      for (const t of inputs) if (t.taskId !== undefined && world.task(t.taskId)) throw new HttpProblem(409, `task ${t.taskId} already exists`);
      const added = [...world.addTasks(id, count ?? 0), ...inputs.map((t) => world.addTask(id, t))];
      return [201, { tasks: added }];
    }
    case 'GET tasks/:id': {
      const task = id ? world.task(id) : undefined;
      if (!task) throw new HttpProblem(404, `unknown task ${id}`);
      return [200, { task }];
    }
    case 'POST tasks/:id/status': {
      if (!id || !world.task(id)) throw new HttpProblem(404, `unknown task ${id}`);
      const input = parseJson(body);
      const status = optionalString(input, 'status');
      if (!status) throw new HttpProblem(400, 'status is required');
      const errMessage = optionalString(input, 'errMessage');
      try {
        world.setStatus(id, status, errMessage !== undefined ? { errMessage } : {});
      } catch (error) {
        throw new HttpProblem(409, (error as Error).message);
      }
      return [200, { task: world.task(id) }];
    }
    case 'POST tasks/:id/links': {
      if (!id || !world.task(id)) throw new HttpProblem(404, `unknown task ${id}`);
      const withheld = parseJson(body).withheld;
      if (typeof withheld !== 'boolean') throw new HttpProblem(400, 'withheld must be true or false');
      world.withholdLinks(id, withheld);
      return [200, { task: world.task(id) }];
    }
    case 'GET rules':
      return [200, { rules: ctx.rules, urlSignature: world.settings.urlSignature }];
    case 'POST rules': {
      const input = parseJson(body);
      for (const key of Object.keys(input)) {
        if (!['unknownPlan', 'strictPageSize', 'omitTotals', 'urlSignature'].includes(key)) throw new HttpProblem(400, `unknown rule "${key}"`);
      }
      if (input.unknownPlan !== undefined && input.unknownPlan !== 'error' && input.unknownPlan !== 'empty') {
        throw new HttpProblem(400, 'unknownPlan must be "error" or "empty"');
      }
      for (const key of ['strictPageSize', 'omitTotals'] as const) {
        if (input[key] !== undefined && typeof input[key] !== 'boolean') throw new HttpProblem(400, `${key} must be true or false`);
      }
      if (input.urlSignature !== undefined && !['v1', 'v4', 'mixed'].includes(input.urlSignature as string)) {
        throw new HttpProblem(400, 'urlSignature must be "v1", "v4" or "mixed"');
      }
      if (input.unknownPlan !== undefined) ctx.rules.unknownPlan = input.unknownPlan as 'error' | 'empty';
      if (input.strictPageSize !== undefined) ctx.rules.strictPageSize = input.strictPageSize as boolean;
      if (input.omitTotals !== undefined) ctx.rules.omitTotals = input.omitTotals as boolean;
      if (input.urlSignature !== undefined) world.settings.urlSignature = input.urlSignature as 'v1' | 'v4' | 'mixed';
      return [200, { rules: ctx.rules, urlSignature: world.settings.urlSignature }];
    }
    case 'DELETE tasks/:id': {
      if (!id || !world.task(id)) throw new HttpProblem(404, `unknown task ${id}`);
      world.removeTask(id);
      return [200, { ok: true }];
    }
    case 'GET faults':
      return [200, { faults: ctx.faults.list() }];
    case 'POST faults': {
      const spec = parseJson(body);
      const problem = faultProblem(spec);
      if (problem) throw new HttpProblem(400, problem);
      ctx.faults.add(spec as unknown as FaultSpec);
      return [201, { faults: ctx.faults.list() }];
    }
    case 'DELETE faults':
      ctx.faults.clear();
      return [200, { ok: true }];
    case 'GET events': {
      const sinceText = url.searchParams.get('since') ?? '0';
      const since = /^\d+$/.test(sinceText) ? Number(sinceText) : Number.NaN;
      if (Number.isNaN(since)) throw new HttpProblem(400, 'since must be a non-negative integer');
      return [200, { events: world.events.slice(since), next: world.events.length }];
    }
    case 'POST tick': {
      const input = parseJson(body);
      const nowMs = optionalNumber(input, 'nowMs');
      const advanceMs = optionalNumber(input, 'advanceMs');
      const applied = advanceMs !== undefined ? world.advance(advanceMs) : world.tick(nowMs);
      return [200, { applied, now: world.now(), elapsedMs: world.elapsedMs() }];
    }
  }
  throw new HttpProblem(404, `no control route ${method} /_sim/${parts.join('/')}`);
}

export function handleControl(ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): void {
  let parts: string[] = [];
  try {
    parts = url.pathname
      .slice('/_sim'.length)
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p));
    const [status, payload] = route(ctx, req.method ?? 'GET', parts, url, body);
    send(res, status, payload);
  } catch (error) {
    if (error instanceof HttpProblem) send(res, error.status, { error: error.message });
    else send(res, 500, { error: String(error) });
  }
}
