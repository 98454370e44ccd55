/**
 * The alerting actions on the real HTTP server, real Redis: silences and
 * acks through the API (token, no token, cross-site, bad input), what
 * `/api/silences` and the page show, the page's language, POST /-/reload.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAck } from '../../src/alerting/acks.js';
import { type Config, parseConfig } from '../../src/config.js';
import type { HttpServer } from '../../src/http.js';
import { openQueues, type Queues } from '../../src/queues.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { startStatusServer } from '../helpers/status-server.js';

const prefix = uniquePrefix('web-alerting');
const TOKEN = 'web-alerting-token-0123456789';
let redis: Redis;
let queues: Queues;
const servers: HttpServer[] = [];
let reloads = 0;

function testConfig(token?: string): Config {
  return parseConfig(
    `redis: { prefix: ${prefix} }\nhttp: { port: 0${token ? `, authToken: ${token}` : ''} }\nplans: [{ id: dbsplanweb1 }]\nchannels:\n  ops: { type: slack, webhookUrl: "http://127.0.0.1:9/services/T/B/X" }\ndefaults: { notify: [ops] }\nsilences: [{ plans: ["dbsplan*"], events: [progress], until: "2999-01-01T00:00:00Z", reason: "noisy progress" }]\n`,
    { REDIS_URL: redisUrl() },
  );
}

async function start(config: Config): Promise<string> {
  const server = await startStatusServer({
    config,
    redis,
    queues,
    page: {
      reload: async () => {
        reloads += 1;
        return { ok: true, plans: 1 };
      },
    },
  });
  servers.push(server);
  return server.url;
}

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (body: unknown, headers: Record<string, string> = auth): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

beforeAll(() => {
  redis = connect('web-alerting');
  queues = openQueues(redis, prefix);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await queues.close();
  await close(redis);
  await deletePrefix(prefix);
});

describe('alerting actions over HTTP', () => {
  it('adds, lists and removes a runtime silence with the token', async () => {
    const url = await start(testConfig(TOKEN));
    const added = await fetch(`${url}/api/silences`, post({ plans: ['dbsplanweb*'], events: ['failed'], for: '2h', reason: 'migration' }));
    expect(added.status).toBe(201);
    const { silence } = (await added.json()) as { silence: { id: string; until: number } };
    expect(silence.until).toBeGreaterThan(Date.now() + 7_000_000);
    const listed = (await (await fetch(`${url}/api/silences`, { headers: auth })).json()) as { silences: { id: string; source: string }[] };
    expect(listed.silences.map((s) => [s.id, s.source])).toEqual([
      ['config-1', 'config'],
      [silence.id, 'runtime'],
    ]);
    const response = await fetch(`${url}/`, { headers: auth });
    const page = await response.text();
    expect(page).toContain('id="silences"');
    expect(page).toContain('migration');
    // Page controls: a Remove button on the runtime silence (not the config one), the add form, and their
    // script carrying the response's CSP nonce.
    expect(page).toContain(`data-silence="${silence.id}"`);
    expect(page).not.toContain('data-silence="config-1"');
    expect(page).toContain('id="silence-form"');
    const nonce = /'nonce-([^']+)'/.exec(response.headers.get('content-security-policy') ?? '')?.[1];
    expect(nonce).toBeDefined();
    // The page's own script and the silence controls' script, both loaded under the response's nonce.
    const escaped = nonce?.replace(/[+/=]/g, (c) => `\\${c}`);
    expect(page.match(new RegExp(`<script src="assets/(page|silences)\\.js" nonce="${escaped}" defer>`, 'g'))?.length).toBe(2);
    expect((await fetch(`${url}/assets/silences.js`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/api/silences/${silence.id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/api/silences/${silence.id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });

  it('refuses bad input naming the field, cross-site requests, and a missing token', async () => {
    const url = await start(testConfig(TOKEN));
    const bad = await fetch(`${url}/api/silences`, post({ for: '90d', reason: '' }));
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { message: string }).message;
    expect(message).toContain('for');
    expect(message).toContain('reason');
    expect((await fetch(`${url}/api/silences`, post({ for: '1h', reason: 'x' }, { ...auth, origin: 'https://evil.example' }))).status).toBe(403);
    expect((await fetch(`${url}/api/silences`, post({ for: '1h', reason: 'x' }, {}))).status).toBe(401);
    const noToken = await start(testConfig());
    expect((await fetch(`${noToken}/api/silences`, post({ for: '1h', reason: 'x' }, {}))).status).toBe(403);
    // Without a token the page offers no controls that would be refused.
    expect(await (await fetch(`${noToken}/`)).text()).not.toContain('id="silence-form"');
    expect((await fetch(`${noToken}/-/reload`, { method: 'POST' })).status).toBe(403);
  });

  it('acknowledges a task and reloads the config', async () => {
    const url = await start(testConfig(TOKEN));
    const acked = await fetch(`${url}/api/acks/dt-0001`, post({}));
    expect(acked.status).toBe(200);
    expect(await readAck(redis, prefix, 'dt-0001')).toMatchObject({ taskId: 'dt-0001', by: 'status page' });
    expect(((await (await fetch(`${url}/api/acks/dt-0001`, post({}))).json()) as { status: string }).status).toBe('already acknowledged');
    const before = reloads;
    const reload = await fetch(`${url}/-/reload`, { method: 'POST', headers: auth });
    expect(reload.status).toBe(200);
    expect(reloads).toBe(before + 1);
  });

  it('serves the page in the browser language, with a ?lang= override', async () => {
    const url = await start(testConfig(TOKEN));
    const zh = await (await fetch(`${url}/`, { headers: { ...auth, 'accept-language': 'zh-CN,zh;q=0.9' } })).text();
    expect(zh).toContain('<html lang="zh-CN">');
    expect(zh).toContain('静默规则');
    const en = await (await fetch(`${url}/?lang=en`, { headers: { ...auth, 'accept-language': 'zh-CN' } })).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Silences');
  });
});
