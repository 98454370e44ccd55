/**
 * A DBS answer that drips in slower than dbs.timeout allows (each byte inside
 * the socket's idle timeout, the whole far beyond it) is reported as
 * "DBS did not answer within …", not as a connection reset.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { DbsApiError } from '../../src/dbs/errors.js';

let server: Server;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"Success":true,"Items":{"BackupSetDownloadTaskList":[');
    const drip = setInterval(() => res.write(' '), 100);
    timers.add(drip);
    res.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('a body that drips past dbs.timeout is "DBS did not answer within", retryable', async () => {
  const client = createDbsClient({
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    protocol: 'http',
    timeoutMs: 600,
    credential: accessKeyCredential({ accessKeyId: 'drip-id', accessKeySecret: 'drip-secret' }),
  });
  const error = await client.describeDownloadTaskPage({ planId: 'p1', pageNum: 0, pageSize: 30 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DbsApiError);
  expect(error).toMatchObject({ code: 'Timeout', retry: { kind: 'retryable' } });
  expect((error as Error).message).toMatch(/^DBS did not answer within 600ms \(dbs\.timeout\)/);
});
