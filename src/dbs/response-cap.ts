/**
 * A size cap on DBS responses. openapi-client reads a whole body into memory
 * before anyone can look at it, so a hostile or broken endpoint answering
 * 50 MB (or a page of 100,000 tasks) took the CLI to 300 MB RSS. This watches
 * the HTTP response below the library (Node's http diagnostics channel, tied to
 * the call through AsyncLocalStorage, like the rate-limit header capture in
 * client.ts) and destroys it once it passes the cap — by its Content-Length
 * when it announces one, else while the bytes arrive. The call then fails with
 * `ResponseTooLarge`, a permanent error naming `dbs.maxResponseBytes`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { PERMANENT } from '../errors.js';
import { DbsApiError } from './errors.js';

/** Default of `dbs.maxResponseBytes`: 20 MB (a 100-task page is about 100 kB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1_048_576;

interface CapState {
  readonly maxBytes: number;
  exceeded?: number;
  socket?: Socket;
}

const currentCap = new AsyncLocalStorage<CapState>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  diagnosticsChannel.subscribe('http.client.request.start', (message) => {
    const state = currentCap.getStore();
    const request = (message as { request?: { once(event: 'response', listener: (res: IncomingMessage) => void): void } }).request;
    if (!state || !request) return;
    request.once('response', (response) => watch(response, state));
  });
}

function watch(response: IncomingMessage, state: CapState): void {
  if (response.socket) state.socket = response.socket;
  const push = response.push.bind(response);
  let received = 0;
  // Over the cap: end the body where it is (the library then fails to parse it and we turn that into
  // ResponseTooLarge) and drop the rest until the call has failed and the socket is closed. Destroying
  // the stream here instead would hang the library: it attaches its listeners later, and an
  // IncomingMessage only emits 'error' to listeners that already exist. Pausing the parser would leave
  // a paused keep-alive socket in the agent's pool for the next call.
  const cut = (bytes: number) => {
    state.exceeded = bytes;
    push(null);
  };
  response.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (state.exceeded !== undefined) return true;
    if (chunk) {
      received += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
      if (received > state.maxBytes) {
        cut(received);
        return true;
      }
    }
    return push(chunk, encoding);
  };
  const announced = Number(response.headers['content-length']);
  if (Number.isFinite(announced) && announced > state.maxBytes) cut(announced);
}

const mb = (bytes: number) => `${Math.round((bytes / 1_048_576) * 10) / 10} MB`;

/** Runs one DBS call under the cap; a response over it fails the call with `ResponseTooLarge`. */
export async function withResponseCap<T>(maxBytes: number, action: string, call: () => Promise<T>): Promise<T> {
  install();
  const state: CapState = { maxBytes };
  try {
    return await currentCap.run(state, call);
  } catch (error) {
    if (state.exceeded === undefined) throw error;
    // Hang up: the rest of the body is never read.
    state.socket?.destroy();
    throw new DbsApiError(
      `DBS answered ${action} with more than ${mb(maxBytes)} (at least ${mb(state.exceeded)}); the response was dropped unread. A real page is far smaller: check dbs.endpoint, or raise dbs.maxResponseBytes`,
      'ResponseTooLarge',
      PERMANENT,
    );
  }
}
