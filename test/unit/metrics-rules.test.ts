/**
 * The shipped Prometheus rules refer only to metrics (and labels) that a
 * started dbswatch exposes, and the counters they use have zero-valued series
 * before any event — so `increase()` sees the first failure after a restart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config.js';
import { initMetrics, registry } from '../../src/metrics.js';

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
}

const rules = (parse(readFileSync('deploy/prometheus/dbswatch-rules.yml', 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

const config = parseConfig(
  `
defaults: { notify: [ops] }
plans: [{ id: plan-a }, { id: plan-b }]
channels:
  ops: { type: slack, webhookUrl: "https://hooks.example/x" }
  mail: { type: email, host: smtp.example, from: a@example.com, to: [b@example.com] }
`,
  {},
);

/** `name{a="x", b=~"y|z"}` selectors of a PromQL expression. */
function selectors(expr: string): { name: string; matchers: { label: string; op: string; value: string }[] }[] {
  return [...expr.matchAll(/\b(dbswatch_[a-z_]+)(\{([^}]*)\})?/g)].map((m) => ({
    name: m[1] as string,
    matchers: [...(m[3] ?? '').matchAll(/(\w+)\s*(=~|!=|=)\s*"([^"]*)"/g)].map((x) => ({ label: x[1] as string, op: x[2] as string, value: x[3] as string })),
  }));
}

describe('deploy/prometheus/dbswatch-rules.yml', () => {
  it('holds the alerts the issue asks for', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'DbswatchPlanStale',
        'DbswatchPlanFailing',
        'DbswatchNotificationsFailing',
        'DbswatchNotifyBacklog',
        'DbswatchConfigReloadFailed',
      ]),
    );
    for (const rule of rules) expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s uses only metrics and labels a started registry exposes', async (_name, rule) => {
    initMetrics(config);
    const text = await registry.metrics();
    const found = selectors(rule.expr);
    expect(found.length, rule.expr).toBeGreaterThan(0);
    for (const { name, matchers } of found) {
      expect(text, `${name} missing from /metrics`).toContain(`# TYPE ${name} `);
      const metric = registry.getSingleMetric(name) as unknown as { labelNames: readonly string[]; type?: string } | undefined;
      expect(metric, name).toBeDefined();
      for (const m of matchers) expect(metric?.labelNames, `${name} has no label ${m.label}`).toContain(m.label);
      // Counters and per-plan gauges have their series (at 0) before any event.
      if (name !== 'dbswatch_queue_jobs') {
        const series = text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
        const matching = series.filter((line) => matchers.every((m) => (m.op === '=' ? line.includes(`${m.label}="${m.value}"`) : true)));
        expect(matching.length, `${name} with ${JSON.stringify(matchers)} has no series right after start`).toBeGreaterThan(0);
      }
    }
  });

  it('creates zero series per configured channel and plan', async () => {
    initMetrics(config);
    const text = await registry.metrics();
    expect(text).toContain('dbswatch_notifications_total{channel_type="email",channel="mail",result="failed"} 0');
    expect(text).toContain('dbswatch_notifications_total{channel_type="slack",channel="ops",result="silenced"} 0');
    expect(text).toContain('dbswatch_polls_total{result="failed",source="plan"} 0');
    expect(text).toContain('dbswatch_polls_total{result="failed",source="instance"} 0');
    expect(text).toMatch(/dbswatch_plan_last_success_timestamp_seconds\{plan="plan-b"\} 0/);
    expect(text).toContain('dbswatch_config_last_reload_successful 1');
  });
});
