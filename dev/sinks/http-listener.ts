/**
 * What the HTTP sinks share: a loopback server that hands each request over
 * with its whole body, its base URL, and a close that does not wait for idle
 * keep-alive connections.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BodyListener {
  /** `http://host:port`, an IPv6 host in brackets. */
  readonly base: string;
  close(): Promise<void>;
}

/** Listens on `host:port` (0: a free port) and calls `handle` once a request's body has arrived. */
export async function listenWithBodies(
  host: string,
  port: number,
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<BodyListener> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
