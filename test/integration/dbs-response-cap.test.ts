/**
 * Issue 15, item 7: the DBS client stops reading a response past `dbs.maxResponseBytes` and fails
 * with a clear, permanent `ResponseTooLarge` — for a body that announces its length and for a
 * chunked body that never ends (before the cap the
 * client read it all into memory: a 50 MB body took the CLI to 299 MB RSS; an endless one never returned).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_CREDENTIAL, type RunningSimulator, startSimulator } from '../../dev/simulator/index.js';
import { accessKeyCredential, createDbsClient } from '../../src/dbs/client.js';
import { failureOf } from '../helpers/dbs.js';

const clientFor = (endpoint: string, maxResponseBytes: number) =>
  createDbsClient({ endpoint, protocol: 'http', timeoutMs: 20_000, maxResponseBytes, credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL) });

describe('DBS response size cap', () => {
  let sim: RunningSimulator;
  let endless: Server;
  let endlessEndpoint = '';
  let bytesSent = 0;

  beforeAll(async () => {
    sim = await startSimulator({ scenario: 'empty', clock: 'manual' });
    sim.world.addPlan({ planId: 'bigpage01' });
    sim.world.addTasks('bigpage01', 3, { status: 'running' });
    // A server that streams a JSON-looking body forever, without a Content-Length.
    endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.write('{"Items":{"BackupSetDownloadTaskDetail":[');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) bytesSent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    endlessEndpoint = `127.0.0.1:${(endless.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await sim.close();
    endless.closeAllConnections();
    await new Promise<void>((resolve) => endless.close(() => resolve()));
  });

  it('refuses a body whose Content-Length is over the cap, naming dbs.maxResponseBytes', async () => {
    const body = JSON.stringify({
      RequestId: 'R1',
      Success: true,
      PageNum: 0,
      PageSize: 30,
      TotalPages: 1,
      TotalElements: 0,
      Items: { BackupSetDownloadTaskDetail: [] },
      Pad: 'x'.repeat(300_000),
    });
    sim.injectFault({ kind: 'raw', count: 1, body });
    const error = await failureOf(clientFor(sim.endpoint, 200_000).describeDownloadTaskPage({ planId: 'bigpage01', pageNum: 0, pageSize: 30 }));
    expect(error.code).toBe('ResponseTooLarge');
    expect(error.retry.kind).toBe('permanent');
    expect(error.message).toMatch(/more than 0\.2 MB .*dbs\.maxResponseBytes/);
  });

  it('stops reading an endless chunked body at the cap', async () => {
    const error = await failureOf(clientFor(endlessEndpoint, 1_048_576).describeDownloadTaskPage({ planId: 'bigpage01', pageNum: 0, pageSize: 30 }));
    expect(error.code).toBe('ResponseTooLarge');
    // The server kept writing until the client hung up: a few MB of socket buffers at most, not forever.
    expect(bytesSent).toBeLessThan(64 * 1_048_576);
  });

  it('still reads normal pages under the default cap', async () => {
    const page = await createDbsClient({
      endpoint: sim.endpoint,
      protocol: 'http',
      timeoutMs: 5_000,
      credential: accessKeyCredential(DEFAULT_SIM_CREDENTIAL),
    }).describeDownloadTaskPage({ planId: 'bigpage01', pageNum: 0, pageSize: 30 });
    expect(page.items).toHaveLength(3);
  });
});
