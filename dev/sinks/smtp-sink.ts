/**
 * A local SMTP server for tests and the demo (the real `smtp-server`
 * package): accepts every message, or answers scripted SMTP codes at DATA
 * (451 → the client retries, 550 → permanent). `smtp-server` is a dev
 * dependency, so it is imported dynamically: a production install without it
 * still loads the module graph, and only starting a sink needs it.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { arrivals } from './arrivals.js';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The raw RFC 5322 message (parse it with mailparser's `simpleParser`). */
  readonly raw: string;
  /** Epoch ms. */
  readonly receivedAt: number;
}

/** A scripted SMTP answer to one message's DATA. */
export interface SmtpSinkResponse {
  readonly code: number;
  readonly message?: string;
  /** Answer the DATA this long after the message arrived (a slow server; a 250 is recorded on arrival). Default: 0. */
  readonly delayMs?: number;
}

export interface SmtpSink {
  readonly port: number;
  /** `smtp://127.0.0.1:PORT` */
  readonly url: string;
  /** Accepted messages, in order. */
  readonly messages: ReceivedMail[];
  /** Every DATA answer given (accepted = 250), in order. */
  readonly answers: { readonly code: number; readonly at: number }[];
  /** Queues answers, consumed one per message; afterwards messages are accepted. */
  respondWith(...responses: SmtpSinkResponse[]): void;
  waitFor(countOrPredicate: number | ((messages: readonly ReceivedMail[]) => boolean), timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(
  options: { port?: number; host?: string; saveDir?: string; onMessage?: (mail: ReceivedMail) => void } = {},
): Promise<SmtpSink> {
  const { SMTPServer } = await import('smtp-server');
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedMail[] = [];
  const arrived = arrivals(messages, 'SMTP sink');
  const answers: { code: number; at: number }[] = [];
  const script: SmtpSinkResponse[] = [];
  if (options.saveDir) await mkdir(options.saveDir, { recursive: true });
  let saved = 0;

  const server = new SMTPServer({
    authOptional: true,
    // Loopback only: accept AUTH without TLS so clients configured with credentials work too.
    allowInsecureAuth: true,
    // Plain local use: no certificate to offer, so no STARTTLS (the client then sends in clear on loopback).
    disabledCommands: ['STARTTLS'],
    banner: 'dbswatch local SMTP sink',
    logger: false,
    onAuth(auth, _session, callback) {
      // Accept any credentials: the sink exists to receive, not to check.
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream: Readable, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const at = Date.now();
        const scripted = script.shift();
        if (scripted && scripted.code >= 400) {
          answers.push({ code: scripted.code, at });
          const error = new Error(scripted.message ?? (scripted.code >= 500 ? 'Message rejected' : 'Try again later')) as Error & {
            responseCode: number;
          };
          error.responseCode = scripted.code;
          callback(error);
          arrived.notify();
          return;
        }
        const envelope = session.envelope;
        const mail: ReceivedMail = {
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          receivedAt: at,
        };
        messages.push(mail);
        answers.push({ code: 250, at });
        const delayMs = scripted?.delayMs ?? 0;
        const finish = () => {
          // Slow server: the message is received now, the 250 comes later (maybe after the client gave up).
          if (delayMs > 0) setTimeout(() => callback(null), delayMs).unref();
          else callback(null);
          try {
            options.onMessage?.(mail);
          } finally {
            arrived.notify();
          }
        };
        if (options.saveDir) {
          saved += 1;
          const file = join(options.saveDir, `${new Date(at).toISOString().replace(/[:.]/g, '-')}-${saved}.eml`);
          writeFile(file, mail.raw).then(finish, finish);
        } else {
          finish();
        }
      });
    },
  });
  server.on('error', () => {
    // Client-level errors (a dropped connection) must not crash a test or the demo.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://${host}:${port}`,
    messages,
    answers,
    respondWith: (...responses) => {
      script.push(...responses);
    },
    waitFor: arrived.waitFor,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
