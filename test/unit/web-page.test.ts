/**
 * The status page renderer (pure): hostile text from the API and Redis is
 * escaped everywhere it lands, relative times, health badges, link
 * delivery, failed notifications with Retry, and the filter form.
 */
import { describe, expect, it } from 'vitest';
import type { PlanStatus, QueueDepths, StatusReport } from '../../src/status/report.js';
import { hourlyBuckets } from '../../src/web/chart.js';
import { type PageModel, renderStatusPage, statusBar, type TransitionRow, timeAgo } from '../../src/web/page.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0);
const IMG = '<img src=x onerror=alert(1)>';
const CLOSE_SCRIPT = '</script><script>alert(2)</script>';
const QUOTE = `" onmouseover="alert(3)' x='`;

const depths = (over: Partial<Record<keyof QueueDepths, number>> = {}): QueueDepths => ({
  waiting: 0,
  active: 0,
  delayed: 0,
  prioritized: 0,
  'waiting-children': 0,
  failed: 0,
  completed: 0,
  ...over,
});

function plan(over: Partial<PlanStatus> = {}): PlanStatus {
  return {
    id: 'dbsplan1',
    name: 'orders-prod',
    intervalMs: 300_000,
    discovered: false,
    health: 'ok',
    lastPollAt: NOW - 12_000,
    lastSuccessAt: NOW - 3 * 60_000,
    taskCount: 5,
    byStatus: { finish: 4, running: 1 },
    ...over,
  };
}

function transition(over: Partial<TransitionRow> = {}): TransitionRow {
  return {
    id: '1-0',
    planId: 'dbsplan1',
    planName: 'orders-prod',
    taskId: 'task1',
    taskName: 'orders-nightly-full',
    event: 'finished',
    from: 'running',
    to: 'finish',
    seq: 2,
    at: NOW - 2 * 3_600_000,
    dataSize: 1_288_490_188,
    hadLinks: true,
    deliveries: [{ channel: 'slack-ops', delivered: true }],
    ...over,
  };
}

function model(over: Partial<PageModel> = {}, report: Partial<StatusReport> = {}): PageModel {
  return {
    report: {
      generatedAt: NOW,
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'dbswatch' },
      plans: [plan()],
      queues: { poll: depths(), notify: depths() },
      failedNotifications: [],
      recentTransitions: [],
      ...report,
    },
    transitions: [transition()],
    filter: {},
    channels: [{ channel: 'slack-ops', delivered: 3, retrying: 1, failed: 0 }],
    channelsCapped: false,
    chart: hourlyBuckets([], NOW),
    actionsEnabled: true,
    ...over,
  };
}

const render = (m: PageModel) => renderStatusPage(m, { now: NOW, nonce: 'n0nce' });

/** The page without its own script tag, so assertions about "no script" look at rendered data only. */
const dataPart = (html: string) => html.replace(/<script src="assets\/[a-z]+\.js" nonce="n0nce" defer><\/script>/g, '');

describe('renderStatusPage: hostile text', () => {
  const hostile = render(
    model(
      {
        transitions: [
          transition({ taskName: IMG, planName: CLOSE_SCRIPT, from: QUOTE, deliveries: [{ channel: IMG, delivered: false }] }),
          transition({ id: '2-0', taskName: undefined, taskId: CLOSE_SCRIPT, event: 'failed', to: 'stop' }),
        ],
        filter: { plan: QUOTE, event: IMG },
        channels: [{ channel: QUOTE, delivered: 1, retrying: 0, failed: 1 }],
      },
      {
        plans: [plan({ name: IMG, id: QUOTE, health: 'failing', lastError: CLOSE_SCRIPT, lastErrorAt: NOW - 5_000, byStatus: { [IMG]: 2 } })],
        failedNotifications: [
          {
            id: `job${QUOTE}`,
            channel: IMG,
            failedReason: CLOSE_SCRIPT,
            attemptsMade: 1,
            failedAt: NOW - 1_000,
            events: [IMG],
            plans: [IMG],
            tasks: [IMG, CLOSE_SCRIPT],
          },
        ],
        queues: { poll: depths(), notify: depths({ failed: 1 }) },
      },
    ),
  );
  const data = dataPart(hostile);

  it('never emits a tag, a closing script or an attribute break from the data', () => {
    expect(data).not.toContain('<img');
    expect(data).not.toContain('<script');
    expect(data).not.toContain('</script>');
    expect(data).not.toContain('" onmouseover=');
    // Every element on the page is one the renderer writes itself.
    const tags = new Set([...data.matchAll(/<([a-zA-Z][\w-]*)/g)].map((m) => m[1]?.toLowerCase()));
    const ours =
      'html head meta title link body header h1 h2 h3 span div p section table thead tbody tr th td strong time form label select option noscript button svg rect line text g code a br input';
    expect([...tags].filter((t) => !ours.split(' ').includes(t ?? ''))).toEqual([]);
    // No attribute was opened by the data: with quoted values blanked out (escaped data has no
    // raw quote to end one early), no tag carries an event handler.
    const unquoted = data.replace(/"[^"]*"/g, '""');
    expect(unquoted.match(/<[^>]*\son\w+=[^>]*>/)?.[0]).toBeUndefined();
    // The page's own script is the only one, and it is whole.
    // The page's script and the silence controls' script (src/web/silences-view.ts), both ours.
    expect(hostile.match(/<script/g)).toHaveLength(2);
    expect(hostile.match(/<\/script>/g)).toHaveLength(2);
  });

  it('keeps the text readable, escaped', () => {
    expect(data).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(data).toContain('&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(data).toContain('data-job="job&quot; onmouseover=&quot;alert(3)&#39; x=&#39;"');
    expect(data).toContain('&quot; onmouseover=&quot;alert(3)&#39; x=&#39; → finish');
  });

  it('gives unknown task statuses a fixed class, never the raw value', () => {
    expect(String(statusBar({ [IMG]: 2, finish: 1 }))).toContain('class="s-other"');
    expect(String(statusBar({ [IMG]: 2 }))).not.toContain('<img');
  });
});

describe('renderStatusPage: content', () => {
  const html = render(model());

  it('shows each plan with its interval, relative times and a health badge', () => {
    expect(html).toContain('<strong>orders-prod</strong>');
    expect(html).toContain('<td>5m</td>');
    expect(html).toContain('>12s ago</time>');
    expect(html).toContain('>3m ago</time>');
    expect(html).toContain('<span class="badge ok">ok</span>');
    expect(html).toContain('finish 4 · running 1');
  });

  it('says in words why a plan is failing', () => {
    const failing = render(
      model({}, { plans: [plan({ health: 'failing', lastError: 'DBS throttled the request (Throttling.User)', lastErrorAt: NOW - 90_000 })] }),
    );
    expect(failing).toContain('<span class="badge failing">failing</span>');
    expect(failing).toMatch(/last error <time[^>]*>1m ago<\/time>: DBS throttled the request \(Throttling\.User\)/);
    expect(failing).toContain('1 plan needs attention');
  });

  it('shows transitions with time, size and whether the links were delivered', () => {
    expect(html).toContain('>2h ago</time>');
    expect(html).toContain('1.2 GiB');
    expect(html).toContain('✓ delivered · slack-ops');
    const pending = render(model({ transitions: [transition({ deliveries: [{ channel: 'mail', delivered: false }] })] }));
    expect(pending).toContain('✗ not delivered · mail');
    const auto = render(model({ transitions: [transition({ hadLinks: false, deliveries: [] })] }));
    expect(auto).toContain('no links (not a manual download)');
  });

  it('pre-selects the filter and says when nothing matches', () => {
    const filtered = render(model({ transitions: [], filter: { plan: 'dbsplan1', event: 'failed' } }));
    expect(filtered).toContain('<option value="dbsplan1" selected>');
    expect(filtered).toContain('<option value="failed" selected>');
    expect(filtered).toContain('No transitions match this filter.');
  });

  it('lists failed notifications with their reason and a Retry button', () => {
    const failed = render(
      model(
        { channels: [{ channel: 'slack-ops', delivered: 2, retrying: 0, failed: 1 }] },
        {
          failedNotifications: [
            {
              id: 'p.t.2-finish.slack-ops',
              channel: 'slack-ops',
              failedReason: 'Slack answered 404 no_service',
              attemptsMade: 1,
              failedAt: NOW - 30_000,
              events: ['finished'],
              plans: ['orders-prod'],
              tasks: ['t'],
            },
          ],
          queues: { poll: depths(), notify: depths({ failed: 1 }) },
        },
      ),
    );
    expect(failed).toContain('<button type="button" class="retry" data-job="p.t.2-finish.slack-ops">Retry</button>');
    expect(failed).toContain('Slack answered 404 no_service');
    expect(failed).toContain('after 1 attempt<');
    expect(failed).toContain('1 failed notification');
    const noToken = render(
      model(
        { actionsEnabled: false },
        { failedNotifications: [{ id: 'x', channel: 'c', failedReason: 'r', attemptsMade: 2, events: [], plans: [], tasks: [] }] },
      ),
    );
    expect(noToken).not.toContain('class="retry"');
    expect(noToken).toContain('retry needs http.authToken');
  });

  it('loads its stylesheet and script from its own assets (the script with the nonce), and links nothing external', () => {
    expect(html).toContain('<link rel="stylesheet" href="assets/page.css">');
    expect(html).toContain('<script src="assets/page.js" nonce="n0nce" defer></script>');
    expect(html).not.toContain('<style');
    expect(html).toContain('<body data-refresh-seconds="5">');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

describe('timeAgo', () => {
  it.each([
    [NOW - 500, 'just now'],
    [NOW - 45_000, '45s ago'],
    [NOW - 3_600_000 * 5, '5h ago'],
    [NOW - 86_400_000 * 2, '2d ago'],
    [NOW + 10_000, 'in 10s'],
  ])('%i → %s, with the UTC time on hover', (at, text) => {
    expect(String(timeAgo(at, NOW))).toBe(`<time datetime="${new Date(at).toISOString()}" title="${new Date(at).toISOString()}">${text}</time>`);
  });

  it('says never for a missing time', () => {
    expect(String(timeAgo(undefined, NOW))).toContain('never');
  });
});
