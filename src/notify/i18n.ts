/**
 * The message catalogue: every word a channel or the status page shows, per
 * locale. A `Record<Locale, Messages>`, so a locale missing a word fails to
 * compile. Pure; times and durations come pre-formatted (src/notify/format.ts).
 */
import type { Locale } from '../config.js';
import type { WatchdogEventKind } from '../domain.js';
import { assertNever } from '../errors.js';
import { formatTimestamp, type Presentation } from '../text/format.js';
import type { WatchdogNotice } from './event.js';

export interface Messages {
  readonly title: {
    readonly finished: string;
    readonly failed: string;
    readonly failedLoud: string;
    progress(status: string): string;
    readonly expired: string;
    /** The email subject's louder form (like failedLoud). */
    readonly expiredLoud: string;
    readonly expiring: string;
  };
  /** What a source is called: a backup plan, or an instance (advanced downloads). */
  readonly instance: string;
  readonly field: {
    readonly plan: string;
    readonly task: string;
    readonly status: string;
    readonly database: string;
    readonly backup: string;
    readonly format: string;
    readonly size: string;
    readonly created: string;
    readonly finished: string;
    readonly duration: string;
    readonly error: string;
    readonly publicUrl: string;
    readonly intranetUrl: string;
    readonly gateway: string;
    readonly directory: string;
    readonly detected: string;
    readonly notification: string;
    readonly result: string;
    readonly links: string;
  };
  inPlan(task: string, plan: string): string;
  /** The same for a task of an instance (advanced downloads). */
  inInstance(task: string, instance: string): string;
  /** `full` / `incremental` (from `jobTypeLabel`) in words; anything else unchanged. */
  jobType(label: string): string;
  readonly pushedTo: string;
  readonly destination: string;
  gatewayPart(id: string): string;
  directoryPart(dir: string): string;
  readonly downloadPublic: string;
  readonly downloadIntranet: string;
  readonly intranetLink: string;
  readonly download: string;
  /** Next to a pre-signed link that carries its expiry. */
  validUntil(time: string): string;
  /** Instead of a link for a finished manual download DBS has not filled in yet. */
  readonly noLinkYet: string;
  /** Instead of a link that expired before the message went out (and DBS gave no fresh one). */
  linkExpired(time: string): string;
  readonly noErrorMessage: string;
  readonly dbsNoErrorMessage: string;
  readonly unknown: string;
  detectedAt(time: string): string;
  digestSummary(total: number, ready: number, failed: number, other: number): string;
  part(i: number, of: number): string;
  thisPart(summary: string): string;
  readonly onePerLine: string;
  readonly digestContext: string;
  more(n: number): string;
  readonly emailFooter: string;
  readonly sentBy: string;
  reminder(n: number, times: number, firstAt: string): string;
  readonly reminderTitle: string;
  readonly ackHint: string;
  readonly watchdog: {
    title(event: WatchdogEventKind, subject: string): string;
    readonly error: string;
    failures(n: number): string;
    lastSuccess(time: string): string;
    readonly never: string;
    readonly footer: string;
  };
  /** Status page words (the page passes its locale). */
  readonly page: {
    readonly title: string;
    readonly plans: string;
    readonly silences: string;
    readonly silenced: string;
    readonly noSilences: string;
    readonly reason: string;
    readonly until: string;
  };
}

const en: Messages = {
  title: {
    finished: 'Download ready',
    failed: 'Download failed',
    failedLoud: 'Download FAILED',
    progress: (s) => `Download ${s}`,
    expired: 'Download expired',
    expiredLoud: 'Download EXPIRED',
    expiring: 'Download expiring soon',
  },
  instance: 'Instance',
  field: {
    plan: 'Plan',
    task: 'Task',
    status: 'Status',
    database: 'Database',
    backup: 'Backup',
    format: 'Format',
    size: 'Backup set size',
    created: 'Created',
    finished: 'Finished',
    duration: 'Duration',
    error: 'Error',
    publicUrl: 'Public URL',
    intranetUrl: 'Intranet URL',
    gateway: 'Backup gateway',
    directory: 'Directory',
    detected: 'Detected',
    notification: 'Notification',
    result: 'Result',
    links: 'Links / error',
  },
  inPlan: (task, plan) => `${task} in plan ${plan}`,
  inInstance: (task, instance) => `${task} in instance ${instance}`,
  jobType: (label) => label,
  pushedTo: 'Pushed to',
  destination: 'Destination:',
  gatewayPart: (id) => `backup gateway ${id}`,
  directoryPart: (dir) => `directory ${dir}`,
  downloadPublic: 'Download (public URL)',
  downloadIntranet: 'Download (intranet / VPC)',
  intranetLink: 'intranet download link',
  download: 'download',
  validUntil: (time) => `valid until ${time}`,
  noLinkYet: 'DBS gave no link yet: get the download from the DBS console',
  linkExpired: (time) => `the download link expired at ${time} and DBS gave no fresh one: get the download from the DBS console`,
  noErrorMessage: 'no error message',
  dbsNoErrorMessage: 'DBS gave no error message',
  unknown: 'unknown',
  detectedAt: (time) => `detected ${time}`,
  digestSummary: (total, ready, failed, other) => {
    const parts: string[] = [];
    if (ready) parts.push(`${ready} ready`);
    if (failed) parts.push(`${failed} failed`);
    if (other) parts.push(`${other} updated`);
    return `${total} download${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
  },
  part: (i, of) => ` (part ${i} of ${of})`,
  thisPart: (summary) => `This part: ${summary}`,
  onePerLine: 'One line per download task.',
  digestContext: 'dbswatch digest: several tasks changed in one poll',
  more: (n) => `+${n} more`,
  emailFooter: 'Sent by dbswatch. Download links are pre-signed and expire; do not forward this message.',
  sentBy: 'dbswatch',
  reminder: (n, times, firstAt) => `Reminder ${n} of ${times}: still unresolved, first reported ${firstAt}`,
  reminderTitle: 'Reminder',
  ackHint: 'Acknowledge with: dbswatch ack',
  watchdog: {
    title: (event, subject) => {
      switch (event) {
        case 'plan-failing':
          return `dbswatch cannot poll plan ${subject}`;
        case 'plan-stale':
          return `dbswatch has not polled plan ${subject} for too long`;
        case 'plan-recovered':
          return `dbswatch polls plan ${subject} again`;
        case 'notifications-failing':
          return `Notifications to channel ${subject} are failing`;
        case 'notifications-recovered':
          return `Notifications to channel ${subject} are delivered again`;
        default:
          return assertNever(event, 'watchdog event');
      }
    },
    error: 'Error',
    failures: (n) => `${n} failure${n === 1 ? '' : 's'} in a row`,
    lastSuccess: (time) => `Last success: ${time}`,
    never: 'never',
    footer: 'dbswatch watchdog',
  },
  page: {
    title: 'dbswatch status',
    plans: 'Plans',
    silences: 'Silences',
    silenced: 'Silenced notifications',
    noSilences: 'No active silences.',
    reason: 'Reason',
    until: 'Until',
  },
};

const zhCN: Messages = {
  title: {
    finished: '下载已就绪',
    failed: '下载失败',
    failedLoud: '下载失败',
    progress: (s) => `下载状态：${s}`,
    expired: '下载已过期',
    expiredLoud: '下载已过期',
    expiring: '下载即将过期',
  },
  instance: '实例',
  field: {
    plan: '备份计划',
    task: '任务',
    status: '状态',
    database: '数据库',
    backup: '备份类型',
    format: '格式',
    size: '备份集大小',
    created: '创建时间',
    finished: '完成时间',
    duration: '耗时',
    error: '错误',
    publicUrl: '公网地址',
    intranetUrl: '内网地址',
    gateway: '备份网关',
    directory: '目录',
    detected: '发现时间',
    notification: '通知',
    result: '结果',
    links: '链接 / 错误',
  },
  inPlan: (task, plan) => `备份计划 ${plan} 中的 ${task}`,
  inInstance: (task, instance) => `实例 ${instance} 中的 ${task}`,
  jobType: (label) => ({ full: '全量', incremental: '增量' })[label] ?? label,
  pushedTo: '已推送到',
  destination: '目标：',
  gatewayPart: (id) => `备份网关 ${id}`,
  directoryPart: (dir) => `目录 ${dir}`,
  downloadPublic: '下载（公网地址）',
  downloadIntranet: '下载（内网 / VPC）',
  intranetLink: '内网下载链接',
  download: '下载',
  validUntil: (time) => `有效期至 ${time}`,
  noLinkYet: 'DBS 尚未提供下载链接：请在 DBS 控制台获取下载',
  linkExpired: (time) => `下载链接已于 ${time} 过期且 DBS 未提供新链接：请在 DBS 控制台获取下载`,
  noErrorMessage: '无错误信息',
  dbsNoErrorMessage: 'DBS 未返回错误信息',
  unknown: '未知',
  detectedAt: (time) => `发现于 ${time}`,
  digestSummary: (total, ready, failed, other) => {
    const parts: string[] = [];
    if (ready) parts.push(`${ready} 个就绪`);
    if (failed) parts.push(`${failed} 个失败`);
    if (other) parts.push(`${other} 个有更新`);
    return `${total} 个下载任务：${parts.join('，')}`;
  },
  part: (i, of) => `（第 ${i} 部分，共 ${of} 部分）`,
  thisPart: (summary) => `本部分：${summary}`,
  onePerLine: '每行一个下载任务。',
  digestContext: 'dbswatch 汇总：一次轮询中有多个任务发生变化',
  more: (n) => `另有 ${n} 条`,
  emailFooter: '由 dbswatch 发送。下载链接为预签名链接，会过期；请勿转发本邮件。',
  sentBy: 'dbswatch',
  reminder: (n, times, firstAt) => `第 ${n} 次提醒（共 ${times} 次）：仍未处理，首次报告于 ${firstAt}`,
  reminderTitle: '提醒',
  ackHint: '确认请运行：dbswatch ack',
  watchdog: {
    title: (event, subject) => {
      switch (event) {
        case 'plan-failing':
          return `dbswatch 无法轮询备份计划 ${subject}`;
        case 'plan-stale':
          return `dbswatch 已长时间未成功轮询备份计划 ${subject}`;
        case 'plan-recovered':
          return `dbswatch 已恢复轮询备份计划 ${subject}`;
        case 'notifications-failing':
          return `发往通道 ${subject} 的通知发送失败`;
        case 'notifications-recovered':
          return `发往通道 ${subject} 的通知已恢复发送`;
        default:
          return assertNever(event, 'watchdog event');
      }
    },
    error: '错误',
    failures: (n) => `连续失败 ${n} 次`,
    lastSuccess: (time) => `上次成功：${time}`,
    never: '从未',
    footer: 'dbswatch 自检',
  },
  page: {
    title: 'dbswatch 状态',
    plans: '备份计划',
    silences: '静默规则',
    silenced: '已静默的通知',
    noSilences: '当前没有生效的静默规则。',
    reason: '原因',
    until: '截止',
  },
};

export const CATALOGUE: Readonly<Record<Locale, Messages>> = { en, 'zh-CN': zhCN };

export function messagesFor(locale: Locale): Messages {
  return CATALOGUE[locale];
}

/** A watchdog notice as a title and plain-text lines, for any renderer (callers escape for their format). */
export function watchdogText(notice: WatchdogNotice, presentation: Presentation): { title: string; lines: string[]; severity: 'problem' | 'resolved' } {
  const m = CATALOGUE[presentation.locale];
  const lines: string[] = [];
  if (notice.error) lines.push(`${m.watchdog.error}: ${notice.error}`);
  if (notice.failures) lines.push(m.watchdog.failures(notice.failures));
  if (notice.event !== 'plan-recovered' && notice.event !== 'notifications-recovered') {
    lines.push(m.watchdog.lastSuccess(formatTimestamp(notice.lastSuccessAt, presentation) ?? m.watchdog.never));
  }
  lines.push(`${m.watchdog.footer} · ${formatTimestamp(notice.at, presentation) ?? ''} · ${notice.id}`);
  const severity = notice.event === 'plan-recovered' || notice.event === 'notifications-recovered' ? 'resolved' : 'problem';
  return { title: m.watchdog.title(notice.event, notice.subject.name), lines, severity };
}

/** Picks a supported locale from `?lang=` or an Accept-Language header; default en. */
export function negotiateLocale(override: string | undefined, acceptLanguage: string | undefined): Locale {
  const pick = (tag: string): Locale | undefined => {
    const t = tag.trim().toLowerCase();
    if (t === 'en' || t.startsWith('en-')) return 'en';
    if (t === 'zh' || t.startsWith('zh-cn') || t.startsWith('zh-hans') || t === 'zh-sg') return 'zh-CN';
    return undefined;
  };
  if (override) {
    const chosen = pick(override);
    if (chosen) return chosen;
  }
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag, q: q === undefined ? 1 : Number(q), i };
    })
    .filter((entry) => entry.tag.trim() && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const entry of ranked) {
    const chosen = pick(entry.tag);
    if (chosen) return chosen;
  }
  return 'en';
}
