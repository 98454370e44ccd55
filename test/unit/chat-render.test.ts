/**
 * The five new renderers (webhook, DingTalk, Feishu, WeCom, Teams) on the
 * same inputs as the Slack/email tests: the sample events, the hostile names,
 * the hostile API corpus (test/fixtures/hostile/api) and big digests. One
 * table of "views" says, per platform, where its human text, its links and
 * its size are; every check runs on every platform.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkAnswer, decodeDownloadTaskPage } from '../../src/dbs/client.js';
import type { DownloadTask } from '../../src/dbs/task.js';
import type { RenderedMessage } from '../../src/notify/channel.js';
import { DINGTALK_LIMITS, type DingtalkMessage, renderDingtalk } from '../../src/notify/dingtalk-render.js';
import type { Notification } from '../../src/notify/event.js';
import { FEISHU_LIMITS, type FeishuMessage, renderFeishu } from '../../src/notify/feishu-render.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { renderTeams, TEAMS_LIMITS, type TeamsMessage } from '../../src/notify/teams-render.js';
import { digestId, renderWebhook, type WebhookMessage } from '../../src/notify/webhook-render.js';
import { renderWecom, WECOM_LIMITS, type WecomMessage } from '../../src/notify/wecom-render.js';
import { adaptiveText, breakAutolinks, chatMarkdownText, truncateBytes, utf8Bytes } from '../../src/text/escape.js';
import { apiFixture } from '../fixtures/hostile/load.js';
import { validate } from '../helpers/json-schema.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../docs/webhook-event.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Markdown links a chat client would make clickable: `[label](target)`. */
const mdLinks = (text: string) => [...text.matchAll(/(?<!\\)\[([^\]]*)\]\(([^)\s]+)\)/g)].map((m) => m[2] as string);

interface View {
  readonly render: (ns: readonly Notification[]) => RenderedMessage[];
  /** Every piece of human-visible text (markup included). */
  readonly texts: (m: RenderedMessage) => string[];
  /** Every URL a reader can click. */
  readonly links: (m: RenderedMessage) => string[];
  /** The size the platform limits, and the limit. */
  readonly size: (m: RenderedMessage) => number;
  readonly limit: number;
  /** `entities`: `& < >` become entities; `backslash`: Adaptive Card text. */
  readonly markup: 'entities' | 'backslash' | 'json';
}

function feishuTexts(m: FeishuMessage): string[] {
  const out = [m.body.card.header.title.content];
  for (const e of m.body.card.elements) {
    if (e.tag === 'div') {
      if (e.text) out.push(e.text.content);
      for (const f of e.fields ?? []) out.push(f.text.content);
    }
    if (e.tag === 'note') out.push(...e.elements.map((x) => x.content));
    if (e.tag === 'action') out.push(...e.actions.map((a) => a.text.content));
  }
  return out;
}

function teamsTexts(m: TeamsMessage): string[] {
  return m.body.attachments[0].content.body.flatMap((b) => (b.type === 'TextBlock' ? [b.text] : b.facts.flatMap((f) => [f.title, f.value])));
}

const VIEWS: Record<'webhook' | 'dingtalk' | 'feishu' | 'wecom' | 'teams', View> = {
  webhook: {
    render: renderWebhook,
    texts: () => [],
    links: (m) => {
      const event = JSON.parse((m as WebhookMessage).body) as {
        type: string;
        data: { task?: { links?: Record<string, string> }; events?: { data: { task: { links?: Record<string, string> } } }[] };
      };
      const tasks = event.type === 'download.digest' ? (event.data.events ?? []).map((e) => e.data.task) : [event.data.task];
      return tasks.flatMap((t) => Object.values(t?.links ?? {}));
    },
    size: () => 0,
    limit: 1,
    markup: 'json',
  },
  dingtalk: {
    render: (ns) => renderDingtalk(ns),
    texts: (m) => {
      const b = (m as DingtalkMessage).body;
      return b.msgtype === 'markdown' ? [b.markdown.title, b.markdown.text] : [b.actionCard.title, b.actionCard.text, ...b.actionCard.btns.map((x) => x.title)];
    },
    links: (m) => {
      const b = (m as DingtalkMessage).body;
      return b.msgtype === 'markdown' ? mdLinks(b.markdown.text) : [...mdLinks(b.actionCard.text), ...b.actionCard.btns.map((x) => x.actionURL)];
    },
    size: (m) => {
      const b = (m as DingtalkMessage).body;
      return utf8Bytes(b.msgtype === 'markdown' ? b.markdown.text : b.actionCard.text);
    },
    limit: DINGTALK_LIMITS.textBytes,
    markup: 'entities',
  },
  feishu: {
    render: renderFeishu,
    texts: (m) => feishuTexts(m as FeishuMessage),
    links: (m) => {
      const f = m as FeishuMessage;
      const buttons = f.body.card.elements.flatMap((e) => (e.tag === 'action' ? e.actions.map((a) => a.url) : []));
      return [...buttons, ...feishuTexts(f).flatMap(mdLinks)];
    },
    size: (m) => utf8Bytes(JSON.stringify((m as FeishuMessage).body)),
    limit: FEISHU_LIMITS.bodyBytes,
    markup: 'entities',
  },
  wecom: {
    render: renderWecom,
    texts: (m) => [(m as WecomMessage).body.markdown.content],
    links: (m) => mdLinks((m as WecomMessage).body.markdown.content),
    size: (m) => utf8Bytes((m as WecomMessage).body.markdown.content),
    limit: WECOM_LIMITS.contentBytes,
    markup: 'entities',
  },
  teams: {
    render: renderTeams,
    texts: (m) => teamsTexts(m as TeamsMessage),
    links: (m) => {
      const t = m as TeamsMessage;
      return [...(t.body.attachments[0].content.actions ?? []).map((a) => a.url), ...teamsTexts(t).flatMap(mdLinks)];
    },
    size: (m) => utf8Bytes(JSON.stringify((m as TeamsMessage).body)),
    limit: TEAMS_LIMITS.messageBytes,
    markup: 'backslash',
  },
};
const PLATFORMS = Object.keys(VIEWS) as (keyof typeof VIEWS)[];
const CHAT = PLATFORMS.filter((p) => p !== 'webhook');

// C0/C1 controls (LF allowed), DEL, bidi embeddings/overrides/isolates.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Our own links: the only `[…](…)` and the only `://` a message may hold. */
const OUR_LINK = /\[(download|Download \(public URL\)|Download \(intranet \/ VPC\))\]\(https?:\/\/[^\s)]+\)/g;

/** Everything that makes a chat message inert, per markup. */
function expectInert(platform: keyof typeof VIEWS, where: string, m: RenderedMessage): void {
  const view = VIEWS[platform];
  if (view.markup !== 'json') expect(view.size(m), `${where}: size`).toBeLessThanOrEqual(view.limit);
  for (const link of view.links(m)) expect(link, `${where}: link`).toMatch(/^https?:\/\/[^/\s]/);
  for (const raw of view.texts(m)) {
    expect(raw, `${where}: controls`).not.toMatch(CONTROL);
    const text = raw.replace(OUR_LINK, '');
    expect(text, `${where}: an autolinkable URL from API text`).not.toMatch(/https?:\/\//i);
    expect(text, `${where}: an unescaped [`).not.toMatch(/(?<!\\)\[/);
    expect(text, `${where}: unescaped emphasis/code`).not.toMatch(/(?<![\\*])[`~]/);
    if (view.markup === 'entities') {
      // Our quote markers `> ` start lines; every other < > is an entity (no tag, no <at>, no <@mention>).
      expect(text.replace(/^> /gm, ''), `${where}: raw < or >`).not.toMatch(/[<>]/);
    } else {
      expect(text, `${where}: unescaped < or >`).not.toMatch(/(?<!\\)[<>]/);
    }
  }
}

const HOSTILE_NAMES = {
  'link injection': '[click here](https://evil.example) <https://evil.example|click>',
  mentions: 'db <!channel> <at id=all></at> <@U123> @all <font color="warning">x</font>',
  'script tag': '<script>alert(1)</script>',
  markdown: '**bold** _it_ `code` ~~gone~~ # heading\n> quote\n- item',
  'ten kB': 'x&<'.repeat(3_400),
  'CJK ten kB': '备份集下载失败'.repeat(1_500),
  'CR/LF': 'orders\r\nBcc: victim@example.com\r\n\r\nbody',
  'control chars': 'a\u0000b\u0007c\u001bd\u202Ee',
} as const;

function hostile(event: 'finished' | 'failed', name: string): Notification {
  return sampleNotification(event, 'ops', {
    planName: name,
    task: { name, errorMessage: `${name}\n<!channel> failed & <b>bold</b> see https://evil.example/x` },
  });
}

describe.each(PLATFORMS)('%s renderer', (platform) => {
  const view = VIEWS[platform];

  it('renders a finished download with its facts and both links', () => {
    const n = sampleNotification('finished', 'ops');
    const messages = view.render([n]);
    expect(messages).toHaveLength(1);
    const m = messages[0] as RenderedMessage;
    expect(m.ids).toEqual([n.id]);
    expectInert(platform, 'finished', m);
    expect(new Set(view.links(m))).toEqual(new Set([n.task.internetUrl, n.task.intranetUrl]));
    const all = platform === 'webhook' ? (m as WebhookMessage).body : view.texts(m).join('\n');
    for (const fact of platform === 'webhook'
      ? ['"dbType":"MySQL"', '"dataSize":1288490188', '"dataFormat":"CSV"', '"createdAt":"2024-05-01T02:00:00.000Z"', '"finishedAt":"2024-05-01T02:12:34.000Z"']
      : ['MySQL', '1.2 GiB', 'CSV', 'full', '2024-05-01 02:00:00 UTC', '12m 34s', 'orders-db (production)', n.task.taskId]) {
      expect(all).toContain(fact);
    }
  });

  it('renders a failure with its error and no links', () => {
    const n = sampleNotification('failed', 'ops');
    const [m] = view.render([n]) as [RenderedMessage];
    expectInert(platform, 'failed', m);
    expect(view.links(m)).toEqual([]);
    const all = platform === 'webhook' ? (m as WebhookMessage).body : view.texts(m).join('\n');
    expect(all).toContain('IndexOutOfBoundsException');
    if (platform !== 'webhook') expect(all).toContain('Download failed');
  });

  it('shows progress and automatic downloads without links', () => {
    const [progress] = view.render([sampleNotification('progress', 'ops')]) as [RenderedMessage];
    expectInert(platform, 'progress', progress);
    const auto = sampleNotification('finished', 'ops', { task: { downloadWay: 'auto', gatewayId: 4242, downloadDir: '/data/backups' } });
    const [m] = view.render([auto]) as [RenderedMessage];
    expect(view.links(m)).toEqual([]);
    const all = platform === 'webhook' ? (m as WebhookMessage).body : view.texts(m).join('\n');
    expect(all).toContain('4242');
    expect(all).toContain('/data/backups');
  });

  it.each(Object.entries(HOSTILE_NAMES))('keeps hostile API text inert: %s', (_label, name) => {
    for (const event of ['finished', 'failed'] as const) {
      const n = hostile(event, name);
      const messages = view.render([n]);
      expect(messages).toHaveLength(1);
      expectInert(platform, `${event}`, messages[0] as RenderedMessage);
      // The only links are the task's own download URLs.
      for (const link of view.links(messages[0] as RenderedMessage)) expect([n.task.internetUrl, n.task.intranetUrl]).toContain(link);
    }
  });

  it('never turns a javascript: or data: URL into a link', () => {
    const n = sampleNotification('finished', 'ops', { task: { internetUrl: 'javascript:alert(1)', intranetUrl: 'data:text/html,<script>' } });
    const [m] = view.render([n]) as [RenderedMessage];
    expect(view.links(m)).toEqual([]);
    const all = platform === 'webhook' ? (m as WebhookMessage).body : view.texts(m).join('\n');
    expect(all).not.toMatch(/javascript:|data:text/);
  });

  it('renders a digest of 40 covering every id once, within limits', () => {
    const burst = sampleBurst(40, 'ops');
    const messages = view.render(burst);
    // One message like Slack; WeCom's 4096 bytes hold about 15 lines with links.
    expect(messages.length).toBe(platform === 'wecom' ? 3 : 1);
    expect(messages.flatMap((m) => m.ids)).toEqual(burst.map((n) => n.id));
    for (const m of messages) expectInert(platform, 'digest', m);
    const links = messages.flatMap((m) => view.links(m));
    // One link per ready download in chat digests; both links per task in the webhook event.
    expect(links.length).toBe(platform === 'webhook' ? 76 : 38);
    const text = messages.map((m) => (platform === 'webhook' ? (m as WebhookMessage).body : view.texts(m).join('\n'))).join('\n');
    expect(text).toContain('40 downloads: 38 ready, 2 failed');
    for (const n of burst) expect(text).toContain(n.task.name as string);
  });

  it('names dbswatch in every message (the keyword a keyword-protected robot can require)', () => {
    if (platform === 'webhook') return;
    const messages = [...view.render([sampleNotification('finished', 'ops')]), ...view.render(sampleBurst(60, 'ops'))];
    for (const m of messages) expect(view.texts(m).join('\n')).toContain('dbswatch');
  });

  it('splits a huge hostile digest into messages that each fit, covering every id once', () => {
    const burst = sampleBurst(230, 'ops').map((n, i) => (i % 3 === 0 ? { ...n, task: { ...n.task, name: 'y<>&[]('.repeat(2_000) } } : n));
    const messages = view.render(burst);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expectInert(platform, 'huge digest', m);
    expect(messages.flatMap((m) => m.ids)).toEqual(burst.map((n) => n.id));
  });
});

describe('chat escaping', () => {
  it.each([
    ['<at id=all></at> & <@U1>', '&lt;at id=all&gt;&lt;/at&gt; &amp; &lt;@U1&gt;', '\\<at id=all\\>\\</at\\> & \\<@U1\\>'],
    [
      '**b** _i_ `c` ~s~ [l](x)',
      '&#42;&#42;b&#42;&#42; &#95;i&#95; &#96;c&#96; &#126;s&#126; &#91;l&#93;(x)',
      '\\*\\*b\\*\\* \\_i\\_ \\`c\\` \\~s\\~ \\[l\\](x)',
    ],
    ['see https://evil.example', 'see https:\u200B//evil.example', 'see https:\u200B//evil.example'],
    ['a\r\nb\u202Ec', 'a b c', 'a b c'],
  ])('%j', (input, markdown, adaptive) => {
    expect(chatMarkdownText(input, 100)).toBe(markdown);
    expect(adaptiveText(input, 100)).toBe(adaptive);
  });

  it('cuts by UTF-8 bytes without splitting a character', () => {
    expect(truncateBytes('备份集下载', 10)).toBe('备份…');
    expect(utf8Bytes(truncateBytes('备份集下载', 10))).toBeLessThanOrEqual(10);
    expect(truncateBytes('short', 10)).toBe('short');
    expect(breakAutolinks('www.evil.example')).toBe('www\u200B.evil.example');
  });
});

describe('chat renderers: platform specifics', () => {
  it('DingTalk: actionCard with one button per link by default, markdown with inline links on request', () => {
    const n = sampleNotification('finished', 'ops');
    const [card] = renderDingtalk([n]);
    expect(card?.body.msgtype).toBe('actionCard');
    if (card?.body.msgtype === 'actionCard') {
      expect(card.body.actionCard.btns.map((b) => b.actionURL)).toEqual([n.task.internetUrl, n.task.intranetUrl]);
      expect(mdLinks(card.body.actionCard.text)).toEqual([]);
    }
    const [markdown] = renderDingtalk([n], { messageType: 'markdown' });
    expect(markdown?.body.msgtype).toBe('markdown');
    if (markdown?.body.msgtype === 'markdown') expect(mdLinks(markdown.body.markdown.text)).toHaveLength(2);
    // A failure has no links: markdown even in actionCard mode.
    expect(renderDingtalk([sampleNotification('failed', 'ops')])[0]?.body.msgtype).toBe('markdown');
  });

  it('WeCom: a CJK error of 10 kB is cut to 4096 bytes, not characters', () => {
    const [m] = renderWecom([hostile('failed', HOSTILE_NAMES['CJK ten kB'])]);
    const content = m?.body.markdown.content ?? '';
    expect(utf8Bytes(content)).toBeLessThanOrEqual(4096);
    expect(content).toContain('备份集下载失败');
    expect(content).toContain('**Error**');
  });

  it('Feishu: an interactive card with a header colour and link buttons', () => {
    const [m] = renderFeishu([sampleNotification('finished', 'ops')]);
    expect(m?.body.msg_type).toBe('interactive');
    expect(m?.body.card.header).toMatchObject({ title: { tag: 'plain_text', content: '✅ Download ready' }, template: 'green' });
    expect(m?.body.card.elements.some((e) => e.tag === 'action' && e.actions.length === 2)).toBe(true);
    expect(renderFeishu([sampleNotification('failed', 'ops')])[0]?.body.card.header.template).toBe('red');
    const [bold] = renderFeishu([hostile('failed', '**bold** <at id=all></at>')]);
    expect(JSON.stringify(bold?.body)).toContain('&#42;&#42;bold&#42;&#42; &lt;at id=all&gt;&lt;/at&gt;');
  });

  it('Teams: a message with one Adaptive Card attachment and Action.OpenUrl per link', () => {
    const n = sampleNotification('finished', 'ops');
    const [m] = renderTeams([n]);
    expect(m?.body.type).toBe('message');
    expect(m?.body.attachments).toHaveLength(1);
    const attachment = m?.body.attachments[0];
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment?.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(attachment?.content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Download (public URL)', url: n.task.internetUrl },
      { type: 'Action.OpenUrl', title: 'Download (intranet / VPC)', url: n.task.intranetUrl },
    ]);
  });
});

describe('webhook events against docs/webhook-event.schema.json', () => {
  it.each(['finished', 'failed', 'progress'] as const)('a %s event is valid and names its notification id', (event) => {
    const n = sampleNotification(event, 'hook');
    const [m] = renderWebhook([n]);
    const body = JSON.parse(m?.body ?? '{}') as { id: string; type: string; data: { task: Record<string, unknown> } };
    expect(validate(SCHEMA, body)).toEqual([]);
    expect(m?.webhookId).toBe(n.id);
    expect(body.id).toBe(n.id);
    expect(body.type).toBe(`download.${event}`);
    if (event === 'failed') expect(body.data.task.errorMessage).toContain('IndexOutOfBoundsException');
  });

  it('a digest is valid, carries each event whole, and has a stable id', () => {
    const burst = sampleBurst(40, 'hook');
    const [m, ...rest] = renderWebhook(burst);
    expect(rest).toHaveLength(0);
    const body = JSON.parse(m?.body ?? '{}') as { id: string; data: { count: number; events: { id: string }[] } };
    expect(validate(SCHEMA, body)).toEqual([]);
    expect(body.data.count).toBe(40);
    expect(body.data.events.map((e) => e.id)).toEqual(burst.map((n) => n.id));
    expect(m?.webhookId).toBe(digestId(burst.map((n) => n.id)));
    expect(renderWebhook(burst)[0]?.webhookId).toBe(m?.webhookId);
    // 230 → 100 + 100 + 30, each valid.
    const big = renderWebhook(sampleBurst(230, 'hook'));
    expect(big.map((x) => x.ids.length)).toEqual([100, 100, 30]);
    for (const x of big) expect(validate(SCHEMA, JSON.parse(x.body))).toEqual([]);
  });

  it('the checker itself refuses what the schema forbids', () => {
    const [m] = renderWebhook([sampleNotification('finished', 'hook')]);
    const good = JSON.parse(m?.body ?? '{}') as Record<string, unknown>;
    expect(validate(SCHEMA, { ...good, version: 2 })).not.toEqual([]);
    expect(validate(SCHEMA, { ...good, type: 'download.exploded' })).not.toEqual([]);
    const { data: _data, ...withoutData } = good;
    expect(validate(SCHEMA, withoutData)).not.toEqual([]);
    expect(validate(SCHEMA, { ...good, extra: 1 })).not.toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The hostile API corpus, decoded by the client's own pure steps (as hostile-api.test.ts does)

const ACCEPTED = [
  'control-characters.json',
  'huge-errmessage.json',
  'huge-name.json',
  'mrkdwn-html-injection.json',
  'url-schemes.json',
  'numbers-as-garbage.json',
  'prototype-keys.json',
];

function decode(name: string): DownloadTask[] {
  const page = decodeDownloadTaskPage(checkAnswer({ body: JSON.parse(apiFixture(name)), statusCode: 200 }), {
    planId: 'planhostile01',
    pageNum: 0,
    pageSize: 30,
  });
  return page.items;
}

function notificationOf(task: DownloadTask, i: number): Notification {
  const event = task.status === 'finish' ? 'finished' : task.status === 'stop' ? 'failed' : 'progress';
  return {
    id: `planhostile01.${task.taskId.slice(0, 40)}.${i + 2}-${event}.chat`,
    event,
    plan: { id: 'planhostile01', name: i % 2 === 0 ? 'planhostile01' : '<!channel> plan <script>x</script> [x](https://evil.example)' },
    task,
    previousStatus: 'running',
    seq: i + 2,
    detectedAt: 1_700_000_000_000,
  };
}

describe('hostile API corpus through the chat renderers', () => {
  const cases = ACCEPTED.map((name) => [name, decode(name).map(notificationOf)] as const);

  it.each(PLATFORMS)('%s: every accepted fixture renders inert and within limits, singles and digests', (platform) => {
    const view = VIEWS[platform];
    for (const [name, ns] of cases) {
      for (const n of ns) {
        const messages = view.render([n]);
        expect(messages).toHaveLength(1);
        expectInert(platform, `${name}/${n.task.taskId.slice(0, 20)}`, messages[0] as RenderedMessage);
        for (const link of view.links(messages[0] as RenderedMessage)) expect(['https:', 'http:']).toContain(new URL(link).protocol);
        if (platform === 'webhook') expect(validate(SCHEMA, JSON.parse((messages[0] as WebhookMessage).body))).toEqual([]);
      }
      if (ns.length > 1) for (const m of view.render(ns)) expectInert(platform, `${name} digest`, m);
    }
    const all = cases.flatMap(([, ns]) => ns);
    for (const m of view.render(all)) expectInert(platform, 'everything digest', m);
  });

  it.each(CHAT)('%s: only the one real signed URL pair of url-schemes.json becomes a link', (platform) => {
    const ns = decode('url-schemes.json').map(notificationOf);
    const links = ns.flatMap((n) => VIEWS[platform].render([n]).flatMap((m) => VIEWS[platform].links(m)));
    expect(new Set(links)).toEqual(
      new Set([
        'https://dbs-ok.oss-cn-hangzhou.example/ok.zip?Expires=1&Signature=OKSIG',
        'https://dbs-ok.oss-cn-hangzhou-internal.example/ok.zip?Expires=1&Signature=OKSIG2',
      ]),
    );
  });
});
