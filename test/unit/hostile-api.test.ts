/**
 * The hostile API corpus (test/fixtures/hostile/api, indexed in its
 * README.md) through the client's own pure steps — what openapi-client does
 * with the bytes (JSON.parse), `checkAnswer`, `decodeDownloadTaskPage`
 * (schema.ts + normalise.ts) and the pager's completeness check — then the
 * accepted tasks through both renderers. Every body ends as a typed
 * `DbsApiError` naming the problem, or as tasks whose URLs are http(s) only,
 * whose strings are bounded, and whose rendering is inert.
 */
import { describe, expect, it } from 'vitest';
import { checkAnswer, decodeDownloadTaskPage } from '../../src/dbs/client.js';
import { classifyDbsFailure, DbsApiError } from '../../src/dbs/errors.js';
import { MAX_TEXT_LENGTH } from '../../src/dbs/normalise.js';
import { readCompleteList } from '../../src/dbs/pager.js';
import type { DownloadTask } from '../../src/dbs/task.js';
import { renderEmail, SUBJECT_MAX } from '../../src/notify/email-render.js';
import type { Notification } from '../../src/notify/event.js';
import { renderSlack, SLACK_LIMITS, type SlackMessage } from '../../src/notify/slack-render.js';
import { apiFixture, apiFixtureNames } from '../fixtures/hostile/load.js';

const PLAN = 'planhostile01';

type Expected =
  | { readonly error: string; readonly message: RegExp; readonly retry?: 'retryable' | 'permanent' }
  | { readonly tasks: number; readonly check?: (tasks: DownloadTask[]) => void };

/** One row per fixture file: the index in README.md, as data. */
const EXPECTED: Record<string, Expected> = {
  'control-characters.json': {
    tasks: 2,
    // Kept as data (normalise only bounds and trims); the renderers strip them — see below.
    check: (tasks) => expect(tasks[0]?.name).toContain('\u202e'),
  },
  'duplicate-ids.json': { error: 'InconsistentList', message: /saw 1 distinct items of 2, the same on all 3 reads/ },
  'empty.txt': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'html-error-page.txt': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'huge-errmessage.json': {
    tasks: 1,
    check: (tasks) => expect(tasks[0]?.errorMessage).toHaveLength(MAX_TEXT_LENGTH),
  },
  'huge-name.json': { tasks: 1, check: (tasks) => expect(tasks[0]?.name).toHaveLength(MAX_TEXT_LENGTH) },
  'huge-task-id.json': { error: 'InvalidResponse', message: /a BackupSetDownloadTaskId is longer than 256 characters/ },
  'item-not-an-object.json': { error: 'InvalidResponse', message: /a BackupSetDownloadTaskDetail item is not an object/ },
  'items-as-string.json': { error: 'InvalidResponse', message: /Items must be an object holding BackupSetDownloadTaskDetail/ },
  'items-detail-as-string.json': { error: 'InvalidResponse', message: /Items\.BackupSetDownloadTaskDetail must be an array/ },
  'json-null.txt': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'missing-items.json': {
    error: 'InvalidResponse',
    message: /Items\.BackupSetDownloadTaskDetail is missing while TotalElements is 3/,
  },
  'missing-status.json': { error: 'InvalidResponse', message: /task hstnostat01 has no BackupSetDownloadStatus/ },
  'missing-task-id.json': { error: 'InvalidResponse', message: /a task has no BackupSetDownloadTaskId/ },
  'mrkdwn-html-injection.json': {
    tasks: 5,
    // An unknown status is kept (and logged), never trusted: renderers reduce it to [A-Za-z0-9_ -].
    check: (tasks) => expect(tasks.map((t) => t.status)).toEqual(['finish', 'finish', 'stop', 'finish', '<!channel>']),
  },
  'negative-totals.json': { error: 'InvalidResponse', message: /TotalElements must not be negative/ },
  'not-json.txt': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'numbers-as-garbage.json': {
    tasks: 1,
    check: ([task]) => {
      expect(task).toBeDefined();
      for (const field of ['dataSize', 'createdAt', 'finishedAt', 'gatewayId'] as const) expect(task).not.toHaveProperty(field);
    },
  },
  'numeric-ids.json': { tasks: 2, check: (tasks) => expect(tasks.map((t) => t.taskId)).toEqual(['1234567890', '987654321']) },
  'prototype-keys.json': {
    tasks: 1,
    check: () => expect(({} as Record<string, unknown>).polluted).toBeUndefined(),
  },
  'success-false-string.json': { error: 'Forbidden.RAM', message: /RAM user lacks permission/, retry: 'permanent' },
  'top-level-array.json': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'totalpages-lie-nine-pages-empty.json': { error: 'InconsistentList', message: /saw 0 distinct items of 270/ },
  'totalpages-lie-one-page-of-250.json': { error: 'InconsistentList', message: /saw 30 distinct items of 250/ },
  'totalpages-nine-pages-zero-elements.json': { tasks: 0 },
  'totalpages-not-a-number.json': { error: 'InvalidResponse', message: /TotalPages must be a number/ },
  'truncated.txt': { error: 'InvalidResponse', message: /the body is not a JSON object/ },
  'url-schemes.json': {
    tasks: 16,
    check: (tasks) => {
      // Only the one real (quoted / scheme-less) pre-signed URL pair survives.
      const withLinks = tasks.filter((t) => t.internetUrl || t.intranetUrl);
      expect(withLinks.map((t) => t.taskId)).toEqual(['hsturl00016']);
      expect(withLinks[0]?.internetUrl).toBe('https://dbs-ok.oss-cn-hangzhou.example/ok.zip?Expires=1&Signature=OKSIG');
      expect(withLinks[0]?.intranetUrl).toBe('https://dbs-ok.oss-cn-hangzhou-internal.example/ok.zip?Expires=1&Signature=OKSIG2');
    },
  },
};

/** The bytes → a complete snapshot, by the same steps as the real client and pager; or the error they throw. */
async function decode(text: string): Promise<DownloadTask[]> {
  let body: unknown;
  try {
    // What openapi-client does with `bodyType: 'json'`.
    body = JSON.parse(text);
  } catch (error) {
    throw classifyDbsFailure({ kind: 'thrown', error });
  }
  const page = decodeDownloadTaskPage(checkAnswer({ body, statusCode: 200 }), { planId: PLAN, pageNum: 0, pageSize: 30 });
  // Every page request answers the same body (as the integration test's simulator does).
  const list = await readCompleteList(async () => page, {
    keyOf: (task) => task.taskId,
    what: `download tasks of plan ${PLAN}`,
    sleep: async () => {},
  });
  return list.items;
}

async function outcomeOf(name: string): Promise<{ tasks: DownloadTask[] } | { error: unknown }> {
  try {
    return { tasks: await decode(apiFixture(name)) };
  } catch (error) {
    return { error };
  }
}

const URL_FIELDS = ['internetUrl', 'intranetUrl'] as const;

describe('hostile API bodies through validation and normalisation', () => {
  it('has an expectation for every fixture file and a file for every expectation', () => {
    expect(apiFixtureNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (name, expected) => {
    const outcome = await outcomeOf(name);
    if ('error' in expected) {
      expect('error' in outcome, `expected ${name} to be refused`).toBe(true);
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(DbsApiError);
      const dbsError = error as DbsApiError;
      expect(dbsError.code).toBe(expected.error);
      expect(dbsError.message).toMatch(expected.message);
      expect(dbsError.retry.kind).toBe(expected.retry ?? 'retryable');
      // The message is ours: bounded, and it quotes nothing the API made up (no 1 MB id, no mentions, no links).
      expect(dbsError.message.length).toBeLessThan(400);
      expect(dbsError.message).not.toMatch(/<!channel>|evil\.example|<script|IIII/);
      return;
    }
    expect('tasks' in outcome, `expected ${name} to be accepted, got ${String((outcome as { error?: unknown }).error)}`).toBe(true);
    const tasks = (outcome as { tasks: DownloadTask[] }).tasks;
    expect(tasks).toHaveLength(expected.tasks);
    for (const task of tasks) {
      for (const field of URL_FIELDS) {
        const url = task[field];
        if (url !== undefined) expect(new URL(url).protocol).toMatch(/^https?:$/);
      }
      for (const [key, value] of Object.entries(task)) {
        if (typeof value === 'string') expect(value.length, `${name}: ${key}`).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
      }
    }
    expected.check?.(tasks);
  });
});

// ---------------------------------------------------------------------------
// Rendering what was accepted

function notificationOf(task: DownloadTask, i: number): Notification {
  const event = task.status === 'finish' ? 'finished' : task.status === 'stop' ? 'failed' : 'progress';
  return {
    id: `${task.planId}.${task.taskId.slice(0, 40)}.${i + 2}-${event}.slack-a`,
    event,
    // Plan names come from config or discovery (DescribeBackupPlanList): API text too.
    plan: { id: PLAN, name: i % 2 === 0 ? PLAN : '<!channel> plan <script>x</script>' },
    task,
    previousStatus: 'running',
    seq: i + 2,
    detectedAt: 1_700_000_000_000,
  };
}

async function acceptedNotifications(): Promise<Array<[string, Notification[]]>> {
  const out: Array<[string, Notification[]]> = [];
  for (const [name, expected] of Object.entries(EXPECTED)) {
    if (!('tasks' in expected) || expected.tasks === 0) continue;
    out.push([name, (await decode(apiFixture(name))).map(notificationOf)]);
  }
  return out;
}

/** Raw markup that must never reach a channel: mentions, Slack links to anywhere odd, HTML. */
const FORBIDDEN = [
  /<!channel>/,
  /<!here>/,
  /<!everyone>/,
  /<@U/,
  /<!subteam/,
  /<https:\/\/evil/,
  /<script/i,
  /<img/i,
  /<svg/i,
  /javascript:/i,
  /vbscript:/i,
  /data:text/i,
  /file:\/\//i,
];
// C0/C1 controls (LF allowed), DEL, bidi embeddings/overrides/isolates.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function expectInert(where: string, text: string): void {
  for (const pattern of FORBIDDEN) expect(text, `${where} contains ${pattern}`).not.toMatch(pattern);
}

function mrkdwnLinks(text: string): string[] {
  return [...text.matchAll(/<([^<>|]+)\|[^<>]*>/g)].map((m) => m[1] as string);
}

function checkSlackMessage(where: string, message: SlackMessage): void {
  const json = JSON.stringify(message);
  expectInert(where, json);
  expect(json, `${where}: control characters`).not.toMatch(CONTROL);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const link of mrkdwnLinks(message.text)) expect(link).toMatch(/^https?:\/\//);
  for (const block of message.blocks) {
    switch (block.type) {
      case 'header':
        expect(block.text.type).toBe('plain_text');
        expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
        break;
      case 'section':
        if (block.text) {
          expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
          for (const link of mrkdwnLinks(block.text.text)) expect(link).toMatch(/^https?:\/\//);
        }
        expect((block.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
        for (const field of block.fields ?? []) {
          expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
          expect(mrkdwnLinks(field.text)).toEqual([]);
        }
        break;
      case 'context':
        expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
        for (const element of block.elements) expect(element.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
        break;
      case 'actions':
        for (const button of block.elements) {
          expect(button.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
          expect(button.url.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonUrl);
          expect(new URL(button.url).protocol).toMatch(/^https?:$/);
        }
        break;
      case 'divider':
        break;
      default:
        throw new Error(`unexpected block ${JSON.stringify(block)}`);
    }
  }
}

/** Tags our email template uses; anything else in the HTML came from the API. */
const ALLOWED_TAGS = new Set(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'h2', 'table', 'tr', 'th', 'td', 'p', 'strong', 'div', 'a']);

function checkEmail(where: string, message: { subject: string; text: string; html: string }): void {
  expectInert(`${where} html`, message.html);
  expect(message.subject).not.toMatch(/[\r\n]/);
  expect(message.subject).not.toMatch(CONTROL);
  expect(message.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
  expect(message.text).not.toMatch(CONTROL);
  expect(message.html).not.toMatch(CONTROL);
  for (const match of message.html.matchAll(/<\/?([!A-Za-z][A-Za-z0-9]*)([^>]*)>/g)) {
    const tag = (match[1] as string).toLowerCase();
    expect(ALLOWED_TAGS.has(tag), `${where}: unexpected <${tag}>`).toBe(true);
    // Attribute names outside quoted values (an escaped value cannot close its quotes).
    const attributes = [...(match[2] as string).replace(/"[^"]*"/g, '""').matchAll(/([A-Za-z-]+)\s*=/g)].map((m) => (m[1] as string).toLowerCase());
    for (const attribute of attributes) expect(['style', 'href', 'charset', 'lang'], `${where}: attribute ${attribute}`).toContain(attribute);
    if (tag === 'a' && !match[0].startsWith('</')) expect(match[2]).toMatch(/^ href="https?:\/\/[^"]*"$/);
  }
}

describe('hostile tasks through the renderers', () => {
  it('renders every accepted fixture inert, within Block Kit limits, as singles and as digests', async () => {
    const cases = await acceptedNotifications();
    expect(cases.length).toBeGreaterThan(5);
    for (const [name, notifications] of cases) {
      for (const n of notifications) {
        const [single] = renderSlack([n], { mentionOnFailure: '' });
        expect(single).toBeDefined();
        checkSlackMessage(`${name}/${n.task.taskId.slice(0, 20)} slack`, single as SlackMessage);
        const [mail] = renderEmail([n]);
        checkEmail(`${name}/${n.task.taskId.slice(0, 20)} email`, mail as { subject: string; text: string; html: string });
      }
      if (notifications.length > 1) {
        for (const message of renderSlack(notifications)) checkSlackMessage(`${name} slack digest`, message);
        const [digest] = renderEmail(notifications);
        checkEmail(`${name} email digest`, digest as { subject: string; text: string; html: string });
      }
    }
    // One digest of everything: the 1 MB name and error next to the injections.
    const all = cases.flatMap(([, ns]) => ns);
    for (const message of renderSlack(all)) checkSlackMessage('everything slack digest', message);
    checkEmail('everything email digest', renderEmail(all)[0] as { subject: string; text: string; html: string });
  });

  it('keeps the text of an injection visible but escaped, and real links working', async () => {
    const injection = (await decode(apiFixture('mrkdwn-html-injection.json'))).map(notificationOf);
    const slack = JSON.stringify(renderSlack([injection[0] as Notification]));
    expect(slack).toContain('&lt;!channel&gt;');
    const mail = renderEmail([injection[2] as Notification])[0];
    expect(mail?.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');

    const urls = (await decode(apiFixture('url-schemes.json'))).map(notificationOf);
    const ok = urls.find((n) => n.task.taskId === 'hsturl00016') as Notification;
    const [message] = renderSlack([ok]);
    const button = message?.blocks.find((b) => b.type === 'actions');
    expect(button).toMatchObject({ elements: [{ url: 'https://dbs-ok.oss-cn-hangzhou.example/ok.zip?Expires=1&Signature=OKSIG' }] });
    expect(renderEmail([ok])[0]?.html).toContain('href="https://dbs-ok.oss-cn-hangzhou.example/ok.zip?Expires=1&amp;Signature=OKSIG"');
  });

  it('cannot inject mail headers through a task name', async () => {
    const tasks = (await decode(apiFixture('control-characters.json'))).map(notificationOf);
    const subject = renderEmail([tasks[1] as Notification])[0]?.subject ?? '';
    expect(subject).toContain('line1 Bcc: victim@example.com Subject: pwned');
    expect(subject).not.toMatch(/[\r\n]/);
  });
});

// Issue 15: Slack formatting marks from the API (`*bold*`, `_it_`, `~st~`, backticks) must not format.
describe('formatting marks from the API in Slack', () => {
  const FAKE = 'a *URGENT* b _it_ c ~st~ d `code` e';
  /** A delimiter that can open (boundary before, no space after) or close (no space before, boundary after). */
  const LIVE = /(^|[^\w\u200B])[*_~`][^\s\u200B]|[^\s\u200B][*_~`]($|[^\w\u200B])/;
  const texts = (message: SlackMessage): string[] => {
    const out: string[] = [message.text];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        const v = value as { type?: string; text?: unknown };
        if (v.type === 'mrkdwn' && typeof v.text === 'string') out.push(v.text);
        Object.values(value).forEach(walk);
      }
    };
    walk(message.blocks);
    return out;
  };

  it('renders hostile names, plan names, errors and directories inert but readable, singly and in digests', async () => {
    const [base] = (await decode(apiFixture('mrkdwn-html-injection.json'))).map(notificationOf);
    const failed: Notification = {
      ...(base as Notification),
      event: 'failed',
      id: 'planhostile01.t_x_.3-stop.slack-a',
      plan: { id: PLAN, name: FAKE },
      task: { ...(base as Notification).task, name: FAKE, status: 'stop', errorMessage: FAKE, downloadDir: FAKE },
    };
    for (const message of [...renderSlack([failed]), ...renderSlack(Array.from({ length: 3 }, () => failed))]) {
      for (const text of texts(message)) {
        // Only the API's words are checked: the template's own marks (*Error*, the bold name) are ours.
        for (const word of ['URGENT', 'it', 'st', 'code']) {
          expect(text, text).not.toMatch(new RegExp(`[*_~\`]${word}|${word}[*_~\`]`));
        }
        const plain = text.replaceAll('\u200B', '');
        if (plain.includes('URGENT')) expect(plain).toContain('*URGENT*');
      }
      // The id's `_x_` is inert too, and still parseable once the zero-width spaces are dropped.
      expect(JSON.stringify(message.blocks).replaceAll('\\u200b', '').replaceAll('\u200B', '')).toContain('planhostile01.t_x_.3-stop.slack-a');
    }
    // The oracle itself: it would have caught the raw marks.
    expect('x *URGENT* y').toMatch(LIVE);
    expect(`x \u200B*\u200BURGENT\u200B*\u200B y`).not.toMatch(LIVE);
  });
});
