/**
 * Every renderer in every locale: the words come from the catalogue of the
 * channel's locale, times are in the channel's time zone, and the safety
 * rules (escaping, Block Kit limits, one-line subjects) hold in both.
 */
import { describe, expect, it } from 'vitest';
import { reminderNotification } from '../../src/alerting/reminders.js';
import { LOCALES, type Locale } from '../../src/config.js';
import { renderEmail, renderEmailWatchdog, SUBJECT_MAX } from '../../src/notify/email-render.js';
import type { WatchdogNotice } from '../../src/notify/event.js';
import { CATALOGUE, negotiateLocale, watchdogText } from '../../src/notify/i18n.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { renderSlack, renderSlackWatchdog, SLACK_LIMITS, type SlackMessage } from '../../src/notify/slack-render.js';
import { formatDuration, formatTimestamp, type Presentation } from '../../src/text/format.js';

const ZONES: Record<Locale, string> = { en: 'UTC', 'zh-CN': 'Asia/Shanghai' };
const cases = LOCALES.map((locale) => [locale, { locale, timezone: ZONES[locale] } as Presentation] as const);

function slackText(m: SlackMessage, options: { header?: boolean } = {}): string {
  const out = [m.text];
  for (const b of m.blocks) {
    // Headers are plain_text: Slack does not parse mentions or links there.
    if (b.type === 'header' && options.header !== false) out.push(b.text.text);
    if (b.type === 'section') out.push(b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text));
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
    if (b.type === 'actions') out.push(...b.elements.map((e) => e.text.text));
  }
  return out.join('\n');
}

function withinLimits(m: SlackMessage): boolean {
  return (
    m.blocks.length <= SLACK_LIMITS.blocksPerMessage &&
    m.text.length <= SLACK_LIMITS.fallbackText &&
    m.blocks.every((b) =>
      b.type === 'header'
        ? b.text.text.length <= SLACK_LIMITS.headerText
        : b.type === 'section'
          ? (b.text?.text.length ?? 0) <= SLACK_LIMITS.sectionText
          : true,
    )
  );
}

const HOSTILE = '<!channel> <https://evil.example|click> & </td><script>x</script>\r\nBcc: v@example.com';
// 2024-05-01 02:00 UTC (the samples' base time) is 10:00 in Shanghai.
const CREATED_UTC = '2024-05-01 02:00:00 UTC';
const CREATED_SHANGHAI = '2024-05-01 10:00:00 UTC+8';

describe('formatting per presentation', () => {
  it.each([
    ['UTC', 'en', CREATED_UTC],
    ['Asia/Shanghai', 'zh-CN', CREATED_SHANGHAI],
    ['America/St_Johns', 'en', '2024-04-30 23:30:00 UTC-2:30'],
  ] as const)('%s/%s timestamp', (timezone, locale, expected) => {
    expect(formatTimestamp(Date.UTC(2024, 4, 1, 2, 0, 0), { timezone, locale })).toBe(expected);
  });

  it.each([
    ['en', '1d 1h'],
    ['zh-CN', '1天 1小时'],
  ] as const)('%s duration', (locale, expected) => expect(formatDuration(90_000_000, { timezone: 'UTC', locale })).toBe(expected));

  it.each([
    [undefined, 'zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
    [undefined, 'en-US,en;q=0.9', 'en'],
    [undefined, 'fr-FR, zh;q=0.5', 'zh-CN'],
    [undefined, 'de-DE', 'en'],
    [undefined, undefined, 'en'],
    ['en', 'zh-CN', 'en'],
    ['zh-CN', 'en', 'zh-CN'],
    ['xx', 'zh-CN', 'zh-CN'],
  ])('negotiateLocale(%s, %s) = %s', (override, header, expected) => expect(negotiateLocale(override, header)).toBe(expected));
});

describe.each(cases)('Slack renderer in %s', (locale, presentation) => {
  const m = CATALOGUE[locale];
  const time = locale === 'en' ? CREATED_UTC : CREATED_SHANGHAI;

  it('renders a finished download in the locale and time zone', () => {
    const [msg] = renderSlack([sampleNotification('finished', 'ops')], { presentation });
    const text = slackText(msg as SlackMessage);
    expect(text).toContain(m.title.finished);
    expect(text).toContain(m.field.created);
    expect(text).toContain(time);
    expect(text).toContain(m.downloadPublic);
    expect(withinLimits(msg as SlackMessage)).toBe(true);
  });

  it('renders a failure with its error and escapes hostile text', () => {
    const n = sampleNotification('failed', 'ops', { planName: HOSTILE, task: { name: HOSTILE, errorMessage: HOSTILE } });
    const [msg] = renderSlack([n], { presentation, mentionOnFailure: '<!here>' });
    const text = slackText(msg as SlackMessage);
    expect(text).toContain(m.title.failed);
    expect(text).toContain(`*${m.field.error}*`);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example|click>');
    expect(text).toContain('<!here>');
  });

  it('marks a reminder with its slot and the original time', () => {
    const original = sampleNotification('failed', 'ops');
    const [msg] = renderSlack([reminderNotification({ ...original, detectedAt: Date.UTC(2024, 4, 1, 2, 0, 0) }, 2, 3)], { presentation });
    const text = slackText(msg as SlackMessage);
    expect(text).toContain(m.reminder(2, 3, time));
    expect(text).toContain(m.reminderTitle);
  });

  it('renders a digest with localised counts, within Block Kit limits', () => {
    const messages = renderSlack(sampleBurst(120, 'ops', 10), { presentation });
    expect(messages.length).toBeGreaterThan(1);
    for (const msg of messages) expect(withinLimits(msg)).toBe(true);
    expect(slackText(messages[0] as SlackMessage)).toContain(m.digestSummary(120, 108, 12, 0));
    expect(messages.flatMap((msg) => msg.ids)).toHaveLength(120);
  });

  it('renders a watchdog event as title + lines', () => {
    const notice: WatchdogNotice = {
      id: 'watchdog.plan.p1.1-plan-failing.ops',
      event: 'plan-failing',
      subject: { kind: 'plan', id: 'p1', name: `orders ${HOSTILE}` },
      error: `InvalidAccessKeyId.NotFound: ${HOSTILE}`,
      failures: 1,
      at: Date.UTC(2024, 4, 1, 2, 0, 0),
    };
    const msg = renderSlackWatchdog(notice, { presentation });
    const text = slackText(msg, { header: false });
    const { title } = watchdogText(notice, presentation);
    expect(title).toContain(m.watchdog.title('plan-failing', '').trim().slice(0, 5));
    expect(text).toContain('InvalidAccessKeyId.NotFound');
    expect(text).toContain(m.watchdog.failures(1));
    expect(text).toContain(time);
    expect(text).not.toContain('<!channel>');
    expect(msg.ids).toEqual([notice.id]);
    expect(withinLimits(msg)).toBe(true);
  });
});

describe.each(cases)('email renderer in %s', (locale, presentation) => {
  const m = CATALOGUE[locale];
  const time = locale === 'en' ? CREATED_UTC : CREATED_SHANGHAI;

  it('renders a finished download in the locale and time zone', () => {
    const [mail] = renderEmail([sampleNotification('finished', 'mail')], presentation);
    expect(mail?.subject).toContain(m.title.finished);
    expect(mail?.text).toContain(`${m.field.created}: ${time}`);
    expect(mail?.html).toContain(`lang="${locale}"`);
    expect(mail?.html).toContain(m.emailFooter.slice(0, 10));
  });

  it('keeps hostile text out of headers and markup', () => {
    const n = sampleNotification('failed', 'mail', { planName: HOSTILE, task: { name: HOSTILE, errorMessage: HOSTILE } });
    const [mail] = renderEmail([n], presentation);
    expect(mail?.subject).not.toMatch(/[\r\n]/);
    expect(mail?.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(mail?.html).not.toContain('<script>');
    expect(mail?.text).toContain(`${m.field.error}:`);
  });

  it('marks a reminder and localises a digest', () => {
    const [reminder] = renderEmail(
      [reminderNotification({ ...sampleNotification('failed', 'mail'), detectedAt: Date.UTC(2024, 4, 1, 2, 0, 0) }, 1, 3)],
      presentation,
    );
    expect(reminder?.text).toContain(m.reminder(1, 3, time));
    const [digest] = renderEmail(sampleBurst(10, 'mail', 5), presentation);
    expect(digest?.subject).toContain(m.digestSummary(10, 8, 2, 0));
    expect(digest?.html).toContain(m.field.links.replace('/', '/'));
  });

  it('renders a watchdog event', () => {
    const notice: WatchdogNotice = {
      id: 'w1',
      event: 'plan-recovered',
      subject: { kind: 'plan', id: 'p1', name: 'orders' },
      at: Date.UTC(2024, 4, 1, 2, 0, 0),
    };
    const mail = renderEmailWatchdog(notice, presentation);
    expect(mail.subject).toContain(m.watchdog.title('plan-recovered', 'orders'));
    expect(mail.text).toContain(time);
    expect(mail.ids).toEqual(['w1']);
  });
});

it('zh-CN messages are Chinese, not English', () => {
  const [msg] = renderSlack([sampleNotification('failed', 'ops')], { presentation: { locale: 'zh-CN', timezone: 'Asia/Shanghai' } });
  const text = slackText(msg as SlackMessage);
  expect(text).toContain('下载失败');
  expect(text).toContain('全量');
  expect(text).not.toContain('Download failed');
  expect(text).not.toContain('Created');
});
