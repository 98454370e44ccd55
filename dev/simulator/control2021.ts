/**
 * The control API of the 2021-01-01 half (advanced downloads), under
 * `/_sim/2021/` (JSON, loopback callers only — the server checks that):
 *
 *   GET  /_sim/2021/instances                    POST /_sim/2021/instances {instanceName, region?, supported?}
 *   GET  /_sim/2021/instances/:name/tasks        POST /_sim/2021/instances/:name/tasks {tasks: [...]}
 *   POST /_sim/2021/tasks/:taskId/status {status}
 *   GET  /_sim/2021/events                       POST /_sim/2021/deny {action} · DELETE /_sim/2021/deny
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import type { SimAdvancedStep } from './world2021.js';

const TASK_KEYS = new Set(['TaskId', 'DownloadStatus', 'TargetType', 'TargetPath', 'Format', 'DbList', 'GmtCreate', 'ExportDataSize', 'steps']);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

class Problem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function json(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const value: unknown = JSON.parse(body.toString('utf8'));
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Problem(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

function route(ctx: SimContext, method: string, parts: string[], body: Buffer): [number, unknown] {
  const w = ctx.world2021;
  const [head, id, tail] = parts;
  if (head === 'instances' && id === undefined) {
    if (method === 'GET') return [200, w.allInstances()];
    if (method === 'POST') {
      const input = json(body);
      if (typeof input.instanceName !== 'string' || !input.instanceName) throw new Problem(400, 'instanceName is required');
      return [
        201,
        w.addInstance({
          instanceName: input.instanceName,
          ...(typeof input.region === 'string' ? { region: input.region } : {}),
          ...(typeof input.supported === 'boolean' ? { supported: input.supported } : {}),
        }),
      ];
    }
  }
  if (head === 'instances' && id !== undefined && tail === 'tasks') {
    if (!w.instance(id)) throw new Problem(404, `unknown instance ${id}`);
    if (method === 'GET') return [200, w.tasksOf(id)];
    if (method === 'POST') {
      const tasks = json(body).tasks;
      if (!Array.isArray(tasks)) throw new Problem(400, 'tasks must be an array');
      const added = tasks.map((raw: unknown) => {
        if (!raw || typeof raw !== 'object') throw new Problem(400, 'each task must be an object');
        for (const key of Object.keys(raw)) if (!TASK_KEYS.has(key)) throw new Problem(400, `unknown task field "${key}"`);
        const input = raw as Record<string, unknown> & { steps?: SimAdvancedStep[] };
        return w.addTask(id, input as Parameters<typeof w.addTask>[1]);
      });
      return [201, added];
    }
  }
  if (head === 'tasks' && id !== undefined && tail === 'status' && method === 'POST') {
    const status = json(body).status;
    if (typeof status !== 'string' || !status) throw new Problem(400, 'status is required');
    if (!w.task(id)) throw new Problem(404, `unknown task ${id}`);
    w.setStatus(id, status);
    return [200, w.task(id)];
  }
  if (head === 'events' && method === 'GET') return [200, w.events];
  if (head === 'deny') {
    if (method === 'POST') {
      const action = json(body).action;
      if (typeof action !== 'string') throw new Problem(400, 'action is required');
      w.deniedActions.add(action);
      return [200, [...w.deniedActions]];
    }
    if (method === 'DELETE') {
      w.deniedActions.clear();
      return [200, []];
    }
  }
  throw new Problem(404, `no control route ${method} /_sim/2021/${parts.join('/')}`);
}

/** Serves `/_sim/2021/…`. */
export function handleControl2021(ctx: SimContext, req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): void {
  const parts = url.pathname
    .replace(/^\/_sim\/2021\/?/, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  try {
    const [status, payload] = route(ctx, req.method ?? 'GET', parts, body);
    send(res, status, payload);
  } catch (error) {
    if (error instanceof Problem) send(res, error.status, { error: error.message });
    else send(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}
