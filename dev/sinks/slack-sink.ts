/**
 * A local stand-in for a Slack incoming webhook, for tests and the demo:
 * records every POST and answers like Slack (`200 ok`, or a scripted error
 * with Slack's real bodies such as `no_service`, and `Retry-After` on 429).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { arrivals } from './arrivals.js';
import { listenWithBodies } from './http-listener.js';

export interface ReceivedSlackMessage {
  readonly path: string;
  /** The parsed JSON body (or the raw text when it is not JSON). */
  readonly body: unknown;
  /** Epoch ms. */
  readonly receivedAt: number;
}

/** A scripted answer; `body` defaults to Slack's for the status. */
export interface SlackSinkResponse {
  readonly status: number;
  readonly body?: string;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfter?: number;
  /** Answer this long after the request arrived (a slow Slack; a 200 is recorded as posted on arrival). Default: 0. */
  readonly delayMs?: number;
}

/** A request the sink answered, with how (including scripted failures). */
export interface SlackSinkRequest {
  readonly path: string;
  readonly status: number;
  readonly at: number;
}

export interface SlackSink {
  /** Webhook URL on this sink; default path `/services/T000/B000/XXXX`. */
  url(path?: string): string;
  /** Messages accepted (answered 200), in order. */
  readonly messages: ReceivedSlackMessage[];
  /** Every request, accepted or not. */
  readonly requests: SlackSinkRequest[];
  /** Queues answers, consumed one per request; afterwards `200 ok`. */
  respondWith(...responses: SlackSinkResponse[]): void;
  /** Resolves once `count` messages arrived, or the predicate holds; rejects after `timeoutMs`. */
  waitFor(countOrPredicate: number | ((messages: readonly ReceivedSlackMessage[]) => boolean), timeoutMs?: number): Promise<ReceivedSlackMessage[]>;
  close(): Promise<void>;
}

const DEFAULT_BODIES: Record<number, string> = {
  400: 'invalid_payload',
  403: 'action_prohibited',
  404: 'no_service',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
};

export async function startSlackSink(options: { port?: number; host?: string; onMessage?: (message: ReceivedSlackMessage) => void } = {}): Promise<SlackSink> {
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedSlackMessage[] = [];
  const arrived = arrivals(messages, 'Slack sink');
  const requests: SlackSinkRequest[] = [];
  const script: SlackSinkResponse[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const at = Date.now();
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('invalid_method');
      return;
    }
    const scripted = script.shift();
    if (scripted && scripted.status !== 200) {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (scripted.retryAfter !== undefined) headers['retry-after'] = String(scripted.retryAfter);
      requests.push({ path, status: scripted.status, at });
      res.writeHead(scripted.status, headers).end(scripted.body ?? DEFAULT_BODIES[scripted.status] ?? 'error');
      arrived.notify();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      requests.push({ path, status: 400, at });
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      arrived.notify();
      return;
    }
    const message: ReceivedSlackMessage = { path, body, receivedAt: at };
    messages.push(message);
    requests.push({ path, status: 200, at });
    const answer = () => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end(scripted?.body ?? 'ok');
    };
    // Slow Slack: the message is posted now, the answer comes later (maybe after the client gave up).
    if (scripted?.delayMs) setTimeout(answer, scripted.delayMs).unref();
    else answer();
    try {
      options.onMessage?.(message);
    } finally {
      arrived.notify();
    }
  };

  const listener = await listenWithBodies(host, options.port ?? 0, handle);
  return {
    url: (path = '/services/T000/B000/XXXX') => `${listener.base}${path.startsWith('/') ? path : `/${path}`}`,
    messages,
    requests,
    respondWith: (...responses) => {
      script.push(...responses);
    },
    waitFor: arrived.waitFor,
    close: () => listener.close(),
  };
}

// ---------------------------------------------------------------------------
// Terminal rendering for the demo

/** Undoes Slack's mrkdwn entity escaping for display. */
function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `<url|label>` → `label <url without query>`: the terminal shows where a link goes, not its signature. */
function showLinks(text: string): string {
  return text.replace(/<([^|>]+)\|([^>]*)>/g, (_, url: string, label: string) => {
    const bare = unescapeMrkdwn(url).replace(/[?#].*$/, '?…');
    return `${label} (${bare})`;
  });
}

function textOf(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'text' in value && typeof (value as { text: unknown }).text === 'string') {
    return (value as { text: string }).text;
  }
  return undefined;
}

/** A readable, plain-text rendering of a Block Kit payload (for the demo's console). */
export function formatSlackMessageForTerminal(body: unknown): string {
  if (!body || typeof body !== 'object') return String(body);
  const payload = body as { text?: unknown; blocks?: unknown };
  const blocks = Array.isArray(payload.blocks) ? (payload.blocks as Record<string, unknown>[]) : [];
  if (blocks.length === 0) return typeof payload.text === 'string' ? unescapeMrkdwn(showLinks(payload.text)) : '';
  const out: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        out.push(`━━ ${textOf(block.text) ?? ''} ━━`);
        break;
      case 'section': {
        const text = textOf(block.text);
        if (text) out.push(unescapeMrkdwn(showLinks(text)));
        if (Array.isArray(block.fields)) {
          for (const f of block.fields) {
            const t = textOf(f);
            if (t) out.push(`  ${unescapeMrkdwn(showLinks(t)).replace(/\n/g, ': ')}`);
          }
        }
        break;
      }
      case 'actions':
        if (Array.isArray(block.elements)) {
          for (const e of block.elements as Record<string, unknown>[]) {
            const url = typeof e.url === 'string' ? e.url.replace(/[?#].*$/, '?…') : '';
            out.push(`  [${textOf(e.text) ?? 'button'}] ${url}`);
          }
        }
        break;
      case 'context':
        if (Array.isArray(block.elements)) {
          out.push(
            (block.elements as unknown[])
              .map((e) => textOf(e))
              .filter(Boolean)
              .map((t) => unescapeMrkdwn(t as string))
              .join(' · '),
          );
        }
        break;
      case 'divider':
        out.push('────────');
        break;
      default:
        break;
    }
  }
  return out.join('\n');
}
