/**
 * Status-page actions of the alerting features, as plain handler functions
 * (the server framework only registers them, see `alertingRoutes`):
 *
 * - `GET /api/silences` — active silences (config and runtime) and recently silenced notifications;
 * - `POST /api/silences` — add a runtime silence: JSON `{ plans?, events?, channels?, for, reason, replay? }`;
 * - `DELETE /api/silences/<id>` — remove a runtime silence;
 * - `POST /api/acks/<taskId>` — acknowledge a failed task (stops its reminders);
 * - `POST /-/reload` — reload the config file (like SIGHUP).
 *
 * The routes (routes.ts) put the same guards in front of every change as in front of Retry: a configured
 * `http.authToken` (403 without), no cross-site request, JSON for bodies.
 */
import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { acknowledge } from '../alerting/acks.js';
import { SilenceStore } from '../alerting/silence-store.js';
import type { Config } from '../config.js';
import { EVENT_KINDS, WATCHDOG_EVENTS } from '../domain.js';
import type { Logger } from '../logger.js';
import { parseDuration } from '../text/duration.js';

export interface AlertingRouteDeps {
  readonly config: () => Config;
  readonly redis: Redis;
  readonly log: Logger;
  /** Present in role processes: reloads the config file. */
  readonly reload?: (() => Promise<{ ok: true; plans: number } | { ok: false; error: string }>) | undefined;
}

/** An answer: status, body and content type (default JSON). */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

const json = (status: number, value: unknown): HttpReply => ({ status, body: JSON.stringify(value) });
const BODY_LIMIT = 16 * 1024;

/** Longest runtime silence: 30 days (a longer mute belongs in the config, where it is reviewed). */
export const MAX_SILENCE_MS = 30 * 86_400_000;

export const newSilenceSchema = z
  .object({
    plans: z.array(z.string().min(1).max(128)).max(50).optional(),
    events: z.array(z.enum([...EVENT_KINDS, ...WATCHDOG_EVENTS])).optional(),
    channels: z.array(z.string().min(1).max(64)).max(50).optional(),
    for: z.string().transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0 || ms > MAX_SILENCE_MS) {
        ctx.addIssue({ code: 'custom', message: 'for: must be a duration like "2h", at most 30d' });
        return z.NEVER;
      }
      return ms;
    }),
    reason: z.string().min(1, 'reason: say why (it is shown wherever the silence is)').max(500),
    replay: z.boolean().optional(),
    by: z.string().max(100).optional(),
  })
  .strict();

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

export async function listSilencesHandler(deps: AlertingRouteDeps): Promise<HttpReply> {
  const store = new SilenceStore(deps.redis, deps.config().redis.prefix);
  return json(200, { silences: await store.all(deps.config()), silenced: await store.recentSilenced(50) });
}

export async function addSilenceHandler(deps: AlertingRouteDeps, req: IncomingMessage): Promise<HttpReply> {
  const config = deps.config();
  let body: unknown;
  try {
    body = await readBody(req);
  } catch (error) {
    return json(400, { status: 'bad request', message: error instanceof Error ? error.message : 'unreadable body' });
  }
  const parsed = newSilenceSchema.safeParse(body);
  if (!parsed.success)
    return json(400, { status: 'bad request', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
  const { for: forMs, by, ...rest } = parsed.data;
  const silence = await new SilenceStore(deps.redis, config.redis.prefix).add({ ...rest, forMs, createdBy: by ?? 'status page' });
  deps.log.info({ silenceId: silence.id, plans: silence.plans, until: silence.until }, 'silence added from the status page');
  return json(201, { status: 'created', silence });
}

export async function removeSilenceHandler(deps: AlertingRouteDeps, id: string): Promise<HttpReply> {
  const config = deps.config();
  const removed = await new SilenceStore(deps.redis, config.redis.prefix).remove(id);
  if (!removed) return json(404, { status: 'not found', message: `no runtime silence ${id} (config silences are removed by editing the config)` });
  deps.log.info({ silenceId: id }, 'silence removed from the status page');
  return json(200, { status: 'removed', id });
}

export async function ackHandler(deps: AlertingRouteDeps, taskId: string): Promise<HttpReply> {
  const config = deps.config();
  const fresh = await acknowledge(deps.redis, config.redis.prefix, { taskId, by: 'status page', at: Date.now() });
  deps.log.info({ taskId }, 'failed task acknowledged from the status page');
  return json(200, { status: fresh ? 'acknowledged' : 'already acknowledged', taskId });
}

export async function reloadHandler(deps: AlertingRouteDeps): Promise<HttpReply> {
  if (!deps.reload) return json(501, { status: 'unavailable', message: 'this process cannot reload its configuration' });
  const outcome = await deps.reload();
  return outcome.ok ? json(200, { status: 'reloaded', plans: outcome.plans }) : json(500, { status: 'failed', message: outcome.error });
}
