import { describe, expect, it } from 'vitest';
import { cleanSubject, renderEmail, SUBJECT_MAX } from '../../src/notify/email-render.js';
import type { Notification } from '../../src/notify/event.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { renderSlack, SLACK_LIMITS, type SlackBlock, type SlackMessage } from '../../src/notify/slack-render.js';
import { escapeHtml, escapeMrkdwn, safeHttpUrl, truncateEscaped } from '../../src/text/escape.js';
import { formatBytes, formatDuration, formatTimestamp } from '../../src/text/format.js';

/** Walks a whole message and collects every Block Kit limit it breaks. */
function slackLimitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  check(message.blocks.length <= SLACK_LIMITS.blocksPerMessage, `${message.blocks.length} blocks`);
  check(message.text.length <= SLACK_LIMITS.fallbackText, `fallback text ${message.text.length}`);
  message.blocks.forEach((block: SlackBlock, i) => {
    switch (block.type) {
      case 'header':
        check(block.text.type === 'plain_text', `header ${i} not plain_text`);
        check(block.text.text.length <= SLACK_LIMITS.headerText, `header ${i} ${block.text.text.length}`);
        break;
      case 'section':
        check(!!block.text || !!block.fields?.length, `section ${i} empty`);
        if (block.text) check(block.text.text.length <= SLACK_LIMITS.sectionText, `section ${i} ${block.text.text.length}`);
        if (block.fields) {
          check(block.fields.length <= SLACK_LIMITS.fieldsPerSection, `section ${i} has ${block.fields.length} fields`);
          for (const f of block.fields) check(f.text.length <= SLACK_LIMITS.fieldText, `field in ${i} ${f.text.length}`);
        }
        break;
      case 'context':
        check(block.elements.length <= SLACK_LIMITS.contextElements, `context ${i} elements`);
        for (const e of block.elements) check(e.text.length <= SLACK_LIMITS.contextText, `context ${i} ${e.text.length}`);
        break;
      case 'actions':
        for (const b of block.elements) {
          check(b.url.length <= SLACK_LIMITS.buttonUrl, `button url ${b.url.length}`);
          check(/^https?:\/\//.test(b.url), `button url scheme ${b.url.slice(0, 20)}`);
          check(b.text.text.length <= SLACK_LIMITS.buttonText, 'button text');
        }
        break;
      case 'divider':
        break;
    }
  });
  return problems;
}

/** Every piece of text in a message (fallback + every text object). */
function allSlackText(message: SlackMessage): string[] {
  const out = [message.text];
  for (const b of message.blocks) {
    if (b.type === 'header') out.push(b.text.text);
    if (b.type === 'section') {
      if (b.text) out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    }
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
  }
  return out;
}

const HOSTILE_NAMES = {
  'link injection': '<https://evil.example|click here>',
  'channel mention': 'db <!channel> <!here> <@U123>',
  'script tag': '<script>alert(1)</script>',
  'ten kB': 'x&<'.repeat(3_400),
  'CR/LF header injection': 'orders\r\nBcc: victim@example.com\r\n\r\nbody',
  'control chars': 'a\u0000b\u0007c\u001bd\u202Ee',
} as const;

function hostile(event: 'finished' | 'failed', name: string): Notification {
  return sampleNotification(event, 'ops', {
    planName: name,
    task: { name, errorMessage: `${name}\n<!channel> failed & <b>bold</b>` },
  });
}

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [1_288_490_188, '1.2 GiB'],
    [150 * 1024 ** 2, '150 MiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [0, '0s'],
    [754_000, '12m 34s'],
    [3_723_000, '1h 2m 3s'],
    [90_000_000, '1d 1h'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('formats timestamps in UTC', () => {
    expect(formatTimestamp(Date.UTC(2024, 4, 1, 2, 3, 4))).toBe('2024-05-01 02:03:04 UTC');
  });
});

describe('escape', () => {
  it('escapes mrkdwn and HTML', () => {
    expect(escapeMrkdwn('<!channel> & <a|b>')).toBe('&lt;!channel&gt; &amp; &lt;a|b&gt;');
    expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
  });

  it('never leaves half an entity when cutting', () => {
    expect(truncateEscaped('abc&amp;def', 6)).toBe('abc…');
    expect(truncateEscaped('abcdef', 4)).toBe('abc…');
  });

  it.each([
    ['javascript:alert(1)', undefined],
    ['JAVASCRIPT:alert(1)', undefined],
    ['data:text/html,<script>', undefined],
    ['ftp://host/file', undefined],
    ['not a url', undefined],
    ['https://oss.example/a?b=1&c=2', 'https://oss.example/a?b=1&c=2'],
  ])('safeHttpUrl(%s)', (input, output) => expect(safeHttpUrl(input)).toBe(output));
});

describe('Slack renderer', () => {
  it('renders a finished download with fields, a button and the intranet link', () => {
    const n = sampleNotification('finished', 'ops');
    const [message, ...rest] = renderSlack([n]);
    expect(rest).toHaveLength(0);
    expect(message).toBeDefined();
    const m = message as SlackMessage;
    expect(m.ids).toEqual([n.id]);
    expect(slackLimitViolations(m)).toEqual([]);
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { text: '✅ Download ready' } });
    const fields = m.blocks.flatMap((b) => (b.type === 'section' ? (b.fields ?? []) : [])).map((f) => f.text);
    expect(fields.join('\n')).toContain('1.2 GiB');
    expect(fields.join('\n')).toContain('full');
    expect(fields.join('\n')).toContain('12m 34s');
    const button = m.blocks.find((b) => b.type === 'actions');
    expect(button).toMatchObject({ elements: [{ url: n.task.internetUrl }] });
    expect(allSlackText(m).join('\n')).toContain('intranet download link');
    expect(m.text).toContain('Download ready');
  });

  it('renders a failure with the error quoted and the configured mention unescaped', () => {
    const n = sampleNotification('failed', 'ops');
    const [m] = renderSlack([n], { mentionOnFailure: '<!here>' }) as [SlackMessage];
    expect(slackLimitViolations(m)).toEqual([]);
    expect(m.blocks[0]).toMatchObject({ text: { text: '❌ Download failed' } });
    expect(m.text.startsWith('<!here> ')).toBe(true);
    const sections = m.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
    expect(sections[0]?.startsWith('<!here> ')).toBe(true);
    expect(sections.join('\n')).toContain('>java.lang.IndexOutOfBoundsException');
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('does not mention on success', () => {
    const [m] = renderSlack([sampleNotification('finished', 'ops')], { mentionOnFailure: '<!here>' }) as [SlackMessage];
    expect(allSlackText(m).join('\n')).not.toContain('<!here>');
  });

  it('shows gateway and directory for auto downloads, no links', () => {
    const n = sampleNotification('finished', 'ops', {
      task: { downloadWay: 'auto', gatewayId: 4242, downloadDir: '/data/backups', internetUrl: undefined, intranetUrl: undefined },
    });
    const [m] = renderSlack([n]) as [SlackMessage];
    const text = allSlackText(m).join('\n');
    expect(text).toContain('4242');
    expect(text).toContain('/data/backups');
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('renders progress events with the new status', () => {
    const [m] = renderSlack([sampleNotification('progress', 'ops')]) as [SlackMessage];
    expect(m.blocks[0]).toMatchObject({ text: { text: 'ℹ️ Download running' } });
  });

  it.each(Object.entries(HOSTILE_NAMES))('neutralises hostile API text: %s', (_label, name) => {
    for (const event of ['finished', 'failed'] as const) {
      const [m] = renderSlack([hostile(event, name)], { mentionOnFailure: '<!subteam^S1>' }) as [SlackMessage];
      expect(slackLimitViolations(m)).toEqual([]);
      for (const text of allSlackText(m)) {
        // The only raw `<…>` allowed are our own links and the configured mention.
        const raw = text.match(/<[^>]*>/g) ?? [];
        for (const tag of raw) expect(tag === '<!subteam^S1>' || /^<https?:\/\/[^|]+\|[a-z (),/]+>$/i.test(tag)).toBe(true);
        expect(text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u202E]/);
      }
      const joined = allSlackText(m).join('\n');
      if (name.includes('<!channel>')) expect(joined).toContain('&lt;!channel&gt;');
      if (name.includes('evil')) expect(joined).toContain('&lt;https://evil.example|click here&gt;');
    }
  });

  it('never turns a javascript: URL into a button or link', () => {
    const n = sampleNotification('finished', 'ops', {
      task: { internetUrl: 'javascript:alert(1)', intranetUrl: 'javascript:alert(2)' },
    });
    const [m] = renderSlack([n]) as [SlackMessage];
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allSlackText(m).join('\n')).not.toContain('javascript:');
  });

  it('renders a digest of 40 as one compact message within limits', () => {
    const burst = sampleBurst(40, 'ops');
    const messages = renderSlack(burst, { mentionOnFailure: '<!here>' });
    expect(messages).toHaveLength(1);
    const [m] = messages as [SlackMessage];
    expect(slackLimitViolations(m)).toEqual([]);
    expect(m.ids).toEqual(burst.map((n) => n.id));
    expect(m.blocks[0]).toMatchObject({ text: { text: '📦 40 downloads: 38 ready, 2 failed' } });
    const body = allSlackText(m).join('\n');
    for (const n of burst) expect(body).toContain(n.task.name as string);
    expect(body.match(/\|download>/g)).toHaveLength(38);
    expect(m.text.startsWith('<!here>')).toBe(true);
  });

  it('splits a huge hostile digest into messages that each fit, covering every id once', () => {
    const burst = sampleBurst(230, 'ops').map((n, i) => (i % 3 === 0 ? { ...n, task: { ...n.task, name: 'y<>&'.repeat(2_500) } } : n));
    const messages = renderSlack(burst);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(slackLimitViolations(m)).toEqual([]);
    expect(messages.flatMap((m) => m.ids)).toEqual(burst.map((n) => n.id));
    expect(messages.some((m) => /\+\d+ more/.test(m.text))).toBe(true);
  });
});

describe('email renderer', () => {
  it('renders a finished download: subject, text and HTML with both links', () => {
    const n = sampleNotification('finished', 'mail');
    const [mail] = renderEmail([n]);
    expect(mail?.subject).toBe('[dbswatch] Download ready: orders-db nightly full (orders-db (production))');
    expect(mail?.text).toContain(n.task.internetUrl);
    expect(mail?.text).toContain(n.task.intranetUrl);
    expect(mail?.html).toContain(`<a href="${escapeHtml(n.task.internetUrl as string)}">`);
    expect(mail?.html).toContain(`<a href="${escapeHtml(n.task.intranetUrl as string)}">`);
    expect(mail?.html).not.toMatch(/<img|<link|<script|url\(/i);
  });

  it('renders a failure with the error text', () => {
    const [mail] = renderEmail([sampleNotification('failed', 'mail')]);
    expect(mail?.subject).toBe('[dbswatch] Download FAILED: orders-db nightly full (orders-db (production))');
    expect(mail?.text).toContain('IndexOutOfBoundsException');
    expect(mail?.html).toContain('IndexOutOfBoundsException');
  });

  it('renders a digest as a table with a counting subject', () => {
    const [mail, ...rest] = renderEmail(sampleBurst(40, 'mail'));
    expect(rest).toHaveLength(0);
    expect(mail?.subject).toBe('[dbswatch] 40 downloads: 38 ready, 2 failed');
    expect(mail?.html.match(/<tr>/g)).toHaveLength(41);
  });

  it.each(Object.entries(HOSTILE_NAMES))('escapes hostile API text: %s', (_label, name) => {
    for (const event of ['finished', 'failed'] as const) {
      const [mail] = renderEmail([hostile(event, name)]);
      expect(mail).toBeDefined();
      if (!mail) continue;
      expect(mail.subject).not.toMatch(/[\r\n\u0000-\u001F\u007F]/);
      expect(mail.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).not.toContain('<https://evil');
      expect(mail.html).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u202E]/);
      // Only our own tags: every `<` opens a known element.
      for (const tag of mail.html.match(/<\/?([a-zA-Z0-9!]+)/g) ?? []) {
        expect([
          '<!DOCTYPE',
          '<html',
          '</html',
          '<head',
          '</head',
          '<meta',
          '<title',
          '</title',
          '<body',
          '</body',
          '<h2',
          '</h2',
          '<table',
          '</table',
          '<tr',
          '</tr',
          '<th',
          '</th',
          '<td',
          '</td',
          '<a',
          '</a',
          '<p',
          '</p',
          '<div',
          '</div',
          '<strong',
          '</strong',
        ]).toContain(tag);
      }
    }
  });

  it('keeps CR/LF out of the subject', () => {
    expect(cleanSubject('a\r\nBcc: x@example.com')).toBe('a Bcc: x@example.com');
  });

  it('never links a javascript: URL', () => {
    const n = sampleNotification('finished', 'mail', { task: { internetUrl: 'javascript:alert(1)', intranetUrl: undefined } });
    const [mail] = renderEmail([n]);
    expect(mail?.html).not.toContain('javascript:');
    expect(mail?.text).not.toContain('javascript:');
  });
});
