/**
 * Security basics on real sockets: dbswatch's HTTP server and the DBS
 * simulator (API and `/_sim/` control API) bind loopback unless told
 * otherwise, so nothing on the network can reach them; the control API
 * would refuse a non-loopback caller anyway; a non-loopback HTTP host needs a
 * token; a request naming another Host (DNS rebinding) gets nothing; every
 * response carries the security headers; the container runs as a non-root
 * user.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../dev/simulator/index.js';
import { isLoopback } from '../../dev/simulator/server.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { type HttpServer, SECURITY_HEADERS, startHttpServer } from '../../src/http.js';
import { silentLogger } from '../../src/logger.js';
import { openQueues, type Queues } from '../../src/queues.js';
import { statusPageRoutes } from '../../src/web/routes.js';
import { close, connect, deletePrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { startStatusServer } from '../helpers/status-server.js';

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/** 'open' when a TCP connection to host:port succeeds, else the error code. */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/**
 * Bound to 127.0.0.1 only, not to every interface: 127.0.0.1 answers, while 127.0.0.2 (also routed to `lo`,
 * so it would answer a wildcard bind) and the machine's own network address (when it has one) do not.
 */
async function expectLoopbackOnly(port: number): Promise<void> {
  expect(await probe('127.0.0.1', port)).toBe('open');
  expect(await probe('127.0.0.2', port)).not.toBe('open');
  const external = externalAddress();
  if (external !== undefined) expect(await probe(external, port)).not.toBe('open');
}

describe('loopback by default', () => {
  const prefix = uniquePrefix('hostile-network');
  const redis = connect('hostile-network');
  let queues: Queues;

  beforeAll(() => {
    queues = openQueues(redis, prefix);
  });

  afterAll(async () => {
    await queues.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  it("dbswatch's HTTP server: http.host defaults to 127.0.0.1 and binds nothing else", async () => {
    const config = parseConfig(`redis: { prefix: ${prefix} }\nhttp: { port: 0 }\n`, { REDIS_URL: redisUrl() });
    expect(config.http.host).toBe('127.0.0.1');
    const server = await startHttpServer({ config: () => config, redis, queues, workers: [], role: 'run', log: silentLogger });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      await expectLoopbackOnly(server.port);
    } finally {
      await server.close();
    }
  });

  it('the simulator (API and control API) binds 127.0.0.1 by default', async () => {
    const sim = await startSimulator();
    try {
      expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
      await expectLoopbackOnly(sim.port);
      const control = await fetch(`${sim.url}/_sim/faults`);
      expect(control.status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('the control API recognises only loopback callers', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true);
    for (const address of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', '', undefined]) expect(isLoopback(address)).toBe(false);
  });

  it('a non-loopback http.host is refused without an authToken, and the token is never echoed', () => {
    let problems: readonly string[] = [];
    try {
      parseConfig('http: { host: 0.0.0.0 }\n', {});
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^http\.authToken: required when http\.host \(0\.0\.0\.0\) is not loopback/)]);
    const config = parseConfig('http: { host: 0.0.0.0, authToken: "${TOKEN}" }\n', { TOKEN: 'NETWORK-TOKEN-1234567890' });
    expect(config.http.authToken).toBe('NETWORK-TOKEN-1234567890');
  });
});

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with exactly the Host header given (fetch would set its own). */
function raw(port: number, path: string, host: string | undefined, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: init.method ?? 'GET',
        setHost: host === undefined ? false : undefined,
        headers: { ...(host === undefined ? {} : { host }), ...init.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('DNS rebinding and security headers', () => {
  const prefix = uniquePrefix('hostile-rebinding');
  const redis = connect('hostile-rebinding', { worker: true });
  let queues: Queues;
  const servers: HttpServer[] = [];

  beforeAll(() => {
    queues = openQueues(redis, prefix);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await queues.close();
    await close(redis);
    await deletePrefix(prefix);
  });

  async function start(extraHttp = '', routes?: express.Router): Promise<HttpServer> {
    const config = parseConfig(`redis: { prefix: ${prefix} }\nhttp:\n  port: 0\n${extraHttp}plans:\n  - { id: dbsrebindplan, name: "secret-orders-plan" }\n`, {
      REDIS_URL: redisUrl(),
    });
    const server = await startStatusServer({ config, redis, queues, ...(routes ? { routes } : {}) });
    servers.push(server);
    return server;
  }

  it('refuses a request whose Host names another site, before any data is read — health and metrics included', async () => {
    const server = await start();
    // Control: the same request with our own Host shows the plan, so the refusal below is about the Host alone.
    const own = await raw(server.port, '/api/status', `127.0.0.1:${server.port}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('secret-orders-plan');

    for (const path of ['/', '/api/status', '/queues/', '/queues/api/queues', '/healthz', '/readyz', '/metrics', '/assets/page.js', '/nope']) {
      for (const host of [`attacker.example:${server.port}`, 'attacker.example', `127.0.0.1.attacker.example:${server.port}`, `localhost.attacker.example`]) {
        const res = await raw(server.port, path, host);
        expect(res.status, `${host} ${path}`).toBe(421);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.body).toContain('DNS rebinding protection');
        expect(res.body).toContain('http.allowedHosts');
        expect(res.body).not.toMatch(/secret-orders-plan|dbsrebindplan|dbswatch_|"status"/);
      }
    }
    // Actions too, with every other header right.
    const post = await raw(server.port, '/api/notifications/x/retry', `attacker.example:${server.port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(421);
  });

  it('answers localhost, the bound address and the local IP, with any port', async () => {
    const server = await start();
    for (const host of [`127.0.0.1:${server.port}`, '127.0.0.1', `localhost:${server.port}`, 'LOCALHOST', 'localhost.', 'localhost:8080']) {
      const res = await raw(server.port, '/api/status', host);
      expect(res.status, host).toBe(200);
      expect(res.body).toContain('secret-orders-plan');
    }
    // No Host at all (HTTP/1.0 style): not a browser, so not a rebinding page.
    const http10 = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(server.port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.0\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(http10).toMatch(/^HTTP\/1\.1 200/);
    // Malformed or smuggled Host values are refused.
    for (const host of ['evil@127.0.0.1', '127.0.0.1/x', '[::1', 'localhost:0', 'localhost:99999', '*.localhost']) {
      expect((await raw(server.port, '/healthz', host)).status, host).toBe(421);
    }
  });

  it('answers an http.allowedHosts name (and a *.name), with the port when the entry names one', async () => {
    const server = await start('  allowedHosts: ["dbswatch.internal.example", "*.svc.example", "proxy.example:8443"]\n');
    for (const host of ['dbswatch.internal.example', `dbswatch.internal.example:${server.port}`, 'dbswatch.ns.svc.example:9464', 'proxy.example:8443']) {
      const res = await raw(server.port, '/api/status', host);
      expect(res.status, host).toBe(200);
      expect(res.body).toContain('secret-orders-plan');
    }
    for (const host of ['svc.example', 'proxy.example', 'proxy.example:9464', 'other.example']) {
      expect((await raw(server.port, '/api/status', host)).status, host).toBe(421);
    }
  });

  it('answers IP-literal Hosts on a wildcard bind (probes, pod-IP scrapes, Docker port mappings), and no other name', async () => {
    const server = await start('  host: 0.0.0.0\n  authToken: rebinding-test-token-0123456789\n');
    for (const host of [`127.0.0.1:${server.port}`, `10.9.8.7:${server.port}`, `[::1]:${server.port}`, `localhost:${server.port}`]) {
      expect((await raw(server.port, '/healthz', host)).status, host).toBe(200);
      expect((await raw(server.port, '/metrics', host)).status, host).toBe(200);
    }
    expect((await raw(server.port, '/healthz', `dbswatch.ops.svc:${server.port}`)).status).toBe(421);
  });

  it('puts the security headers on every response: page, JSON, assets, bull-board, 401/404/405/421/500/503, and no X-Powered-By', async () => {
    const server = await start();
    const host = `127.0.0.1:${server.port}`;
    const answers: Array<[string, RawAnswer]> = [];
    const take = async (label: string, path: string, init: Parameters<typeof raw>[3] = {}, as = host) => {
      const res = await raw(server.port, path, as, init);
      answers.push([label, res]);
      return res;
    };
    expect((await take('page', '/')).status).toBe(200);
    expect((await take('json', '/api/status')).status).toBe(200);
    expect((await take('asset', '/assets/page.css')).status).toBe(200);
    expect((await take('health', '/healthz')).status).toBe(200);
    expect((await take('metrics', '/metrics')).status).toBe(200);
    const board = await take('bull-board page', '/queues/');
    expect(board.status).toBe(200);
    expect(board.body).toContain('static/js/');
    expect((await take('bull-board static', '/queues/static/images/logo.svg')).status).toBe(200);
    expect((await take('bull-board api', '/queues/api/queues')).status).toBe(200);
    expect((await take('bull-board refusal', '/queues/api/queues/notify/retry/failed', { method: 'PUT' })).status).toBe(405);
    expect((await take('404', '/nope')).status).toBe(404);
    // A path bull-board does not serve comes back to our own 404, as JSON.
    const boardMiss = await take('bull-board 404', '/queues/api/no/such/thing', { method: 'DELETE' });
    expect(boardMiss.status).toBe(404);
    expect(JSON.parse(boardMiss.body)).toEqual({ status: 'not found', path: '/queues/api/no/such/thing' });
    expect((await take('405', '/healthz', { method: 'POST' })).status).toBe(405);
    expect((await take('403 action', '/api/notifications/x/retry', { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(403);
    expect((await take('421', '/', {}, 'attacker.example')).status).toBe(421);

    const tokenServer = await start('  authToken: rebinding-test-token-0123456789\n');
    answers.push(['401', await raw(tokenServer.port, '/', `localhost:${tokenServer.port}`)]);
    expect(answers.at(-1)?.[1].status).toBe(401);

    const failing = await start(
      '',
      express.Router().get('/boom', () => {
        throw new Error('handler exploded');
      }),
    );
    answers.push(['500', await raw(failing.port, '/boom', `localhost:${failing.port}`)]);
    expect(answers.at(-1)?.[1].status).toBe(500);

    const down = connect('hostile-rebinding-down');
    down.disconnect();
    const config = parseConfig(`redis: { prefix: ${prefix} }\nhttp: { port: 0 }\n`, { REDIS_URL: redisUrl() });
    const unavailable = await start('', statusPageRoutes({ config: () => config, redis: down, queues, log: silentLogger }));
    answers.push(['503 page', await raw(unavailable.port, '/', `localhost:${unavailable.port}`)]);
    expect(answers.at(-1)?.[1].status).toBe(503);
    answers.push(['503 json', await raw(unavailable.port, '/api/status', `localhost:${unavailable.port}`)]);
    expect(answers.at(-1)?.[1].status).toBe(503);
    await close(down);

    for (const [label, res] of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        if (name === 'content-security-policy' || name === 'cache-control') continue;
        expect(res.headers[name], `${label}: ${name}`).toBe(value);
      }
      const csp = String(res.headers['content-security-policy'] ?? '');
      expect(csp, label).toContain("frame-ancestors 'none'");
      expect(csp, label).toMatch(/default-src '(none|self)'/);
      expect(res.headers['x-powered-by'], label).toBeUndefined();
    }
    // bull-board's UI gets a policy that lets its own bundle run, and nothing from elsewhere.
    const boardCsp = String(board.headers['content-security-policy']);
    expect(boardCsp).toContain("script-src 'self'");
    expect(boardCsp).not.toMatch(/unsafe-eval|\*|https?:/);
  });
});

describe('the container image', () => {
  it('runs as the non-root "node" user', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    // The user is set before the command, and nothing switches back to root.
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('\nCMD '));
    expect(users).not.toContain('root');
  });
});
