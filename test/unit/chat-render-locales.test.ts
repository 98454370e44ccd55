/**
 * The chat channels (DingTalk, Feishu/Lark, WeCom, Teams) in every locale:
 * the words of a message come from the channel's catalogue and its times are
 * in the channel's time zone, for single messages and digests — like Slack
 * and email (notify-render-locales.test.ts). The webhook channel sends data
 * (ISO 8601 UTC) and is not localised.
 */
import { describe, expect, it } from 'vitest';
import { LOCALES, type Locale } from '../../src/config.js';
import { renderDingtalk } from '../../src/notify/dingtalk-render.js';
import { renderFeishu } from '../../src/notify/feishu-render.js';
import { CATALOGUE } from '../../src/notify/i18n.js';
import { sampleBurst, sampleNotification } from '../../src/notify/sample.js';
import { renderTeams } from '../../src/notify/teams-render.js';
import { renderWecom } from '../../src/notify/wecom-render.js';
import { formatTimestamp, type Presentation } from '../../src/text/format.js';

const ZONES: Record<Locale, string> = { en: 'UTC', 'zh-CN': 'Asia/Shanghai' };
const cases = LOCALES.map((locale) => [locale, { locale, timezone: ZONES[locale] } as Presentation] as const);

const renderers = {
  dingtalk: (ns: Parameters<typeof renderWecom>[0], p: Presentation) => renderDingtalk(ns, { presentation: p, messageType: 'markdown' }),
  feishu: renderFeishu,
  wecom: renderWecom,
  teams: renderTeams,
} as const;

/** The rendered bodies as one text (JSON keeps every string the platform shows). */
const textOf = (messages: readonly { body: unknown }[]) => messages.map((m) => JSON.stringify(m.body)).join('\n');

describe.each(cases)('chat renderers in %s', (locale, presentation) => {
  const m = CATALOGUE[locale];

  it.each(Object.entries(renderers))('%s: a finished download in the channel language and time zone', (_name, render) => {
    const n = sampleNotification('finished', 'ops');
    const text = textOf(render([n], presentation));
    expect(text).toContain(m.title.finished);
    expect(text).toContain(m.field.created);
    expect(text).toContain(m.downloadPublic);
    // The creation time as the channel shows it (UTC+8 for Asia/Shanghai), not as UTC when the zone differs.
    const created = formatTimestamp(n.task.createdAt, presentation) as string;
    expect(text).toContain(created);
    if (presentation.timezone !== 'UTC') expect(text).not.toContain(formatTimestamp(n.task.createdAt) as string);
    // The id stays machine-readable in every language.
    expect(text).toContain(`notification ${n.id}`);
  });

  it.each(Object.entries(renderers))('%s: a failure and a digest in the channel language', (_name, render) => {
    const failed = textOf(render([sampleNotification('failed', 'ops')], presentation));
    expect(failed).toContain(m.title.failed);
    expect(failed).toContain(m.field.error);
    const digest = textOf(render(sampleBurst(6, 'ops'), presentation));
    expect(digest).toContain(m.onePerLine);
  });
});

it('the two locales really differ (a renderer ignoring the locale would pass the tests above only in English)', () => {
  expect(CATALOGUE['zh-CN'].title.finished).not.toBe(CATALOGUE.en.title.finished);
  expect(CATALOGUE['zh-CN'].field.created).not.toBe(CATALOGUE.en.field.created);
  expect(CATALOGUE['zh-CN'].onePerLine).not.toBe(CATALOGUE.en.onePerLine);
});
