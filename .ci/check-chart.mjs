#!/usr/bin/env node
// Renders the Helm chart under deploy/helm/dbswatch without a helm binary (Debian ships none) and
// checks what `helm template` + a cluster would catch first: every rendered object parses as YAML and
// names apiVersion/kind/metadata.name; probes hit /healthz and /readyz on the config's http.port, which
// is also the container port; pods run as non-root on a read-only root filesystem; a non-loopback
// http.host has an auth token. Rendered with the defaults and with every optional part switched on.
//
// The renderer understands exactly the template subset the chart uses — {{ .Values.a.b }},
// {{ .Release.Name }}, {{ .Chart.AppVersion }}, pipes `quote`, `toYaml`, `nindent N`, `indent N`,
// `{{ if X }}`/`{{ else }}`/`{{ end }}` and the `{{-`/`-}}` trim markers — and fails on anything
// else, so a template can never silently render differently here than in helm.
// CHART_PRINT=defaults (or another variant's name) prints the rendered manifests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';

const CHART = process.argv[2] ?? 'deploy/helm/dbswatch';
const problems = [];

function lookup(path, scope) {
  const parts = path.split('.').filter(Boolean);
  let cursor = scope;
  for (const part of parts) {
    if (cursor === null || typeof cursor !== 'object') return undefined;
    cursor = cursor[part];
  }
  return cursor;
}

function toYaml(value) {
  if (value === undefined || value === null) return '{}';
  if (typeof value === 'object' && Object.keys(value).length === 0) return Array.isArray(value) ? '[]' : '{}';
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 }).replace(/\n$/, '');
}

function evaluate(expression, scope, where) {
  let [head, ...pipes] = expression.split('|').map((s) => s.trim());
  // `toYaml .Values.x` is `.Values.x | toYaml`.
  const call = /^(toYaml|quote)\s+(.+)$/.exec(head);
  if (call) {
    head = call[2];
    pipes = [call[1], ...pipes];
  }
  if (!/^(\.(Values|Release|Chart)(\.[A-Za-z0-9_-]+)*|"[^"]*")$/.test(head)) throw new Error(`${where}: unsupported expression "${head}"`);
  let value = head.startsWith('"') ? head.slice(1, -1) : lookup(head, scope);
  for (const pipe of pipes) {
    const [fn, arg] = pipe.split(/\s+/);
    if (fn === 'quote') value = JSON.stringify(value === undefined ? '' : String(value));
    else if (fn === 'toYaml') value = toYaml(value);
    else if (fn === 'nindent' || fn === 'indent') {
      const pad = ' '.repeat(Number(arg));
      const body = String(value).split('\n').map((line) => (line ? pad + line : line)).join('\n');
      value = fn === 'nindent' ? `\n${body}` : body;
    } else throw new Error(`${where}: unsupported function "${fn}"`);
  }
  if (value === undefined) throw new Error(`${where}: "${head}" is not set in the values`);
  return typeof value === 'object' ? toYaml(value) : String(value);
}

function truthy(value) {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function render(template, scope, where) {
  // Tokens: text and actions, with the trim markers applied to the neighbouring text.
  const tokens = [];
  let rest = template;
  while (rest.length) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      tokens.push({ text: rest });
      break;
    }
    const close = rest.indexOf('}}', open);
    if (close === -1) throw new Error(`${where}: unclosed {{`);
    let text = rest.slice(0, open);
    let action = rest.slice(open + 2, close);
    if (action.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let trimNext = false;
    if (action.endsWith('-')) {
      trimNext = true;
      action = action.slice(0, -1);
    }
    tokens.push({ text }, { action: action.trim() });
    rest = rest.slice(close + 2);
    if (trimNext) rest = rest.replace(/^\s+/, '');
  }
  let out = '';
  const stack = [{ on: true }];
  for (const token of tokens) {
    const active = stack.every((frame) => frame.on);
    if ('text' in token) {
      if (active) out += token.text;
      continue;
    }
    const { action } = token;
    if (action.startsWith('/*')) continue;
    const cond = /^if\s+(not\s+)?(.+)$/.exec(action);
    if (cond) {
      const value = truthy(lookup(cond[2].trim(), scope));
      stack.push({ on: cond[1] ? !value : value });
    } else if (action === 'else') {
      const frame = stack.at(-1);
      if (stack.length < 2) throw new Error(`${where}: else without if`);
      frame.on = !frame.on;
    } else if (action === 'end') {
      if (stack.length < 2) throw new Error(`${where}: end without if`);
      stack.pop();
    } else if (active) out += evaluate(action, scope, where);
  }
  if (stack.length !== 1) throw new Error(`${where}: if without end`);
  return out;
}

function merge(base, over) {
  if (!over || typeof over !== 'object' || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base?.[k], v);
  return out;
}

const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
const templates = readdirSync(join(CHART, 'templates')).filter((f) => f.endsWith('.yaml'));
const variants = {
  defaults: {},
  'everything on': { scaleOut: { enabled: true }, serviceMonitor: { enabled: true }, env: [{ name: 'LOG_LEVEL', value: 'debug' }] },
  'scale-out only, port 8080': { run: { enabled: false }, scaleOut: { enabled: true }, config: { http: { port: 8080 } }, service: { port: 8080 } },
};

for (const [variant, overrides] of Object.entries(variants)) {
  const values = merge(defaults, overrides);
  const scope = { Values: values, Release: { Name: 'dbswatch', Namespace: 'default' }, Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion } };
  const objects = [];
  for (const file of templates) {
    const where = `${variant}: templates/${file}`;
    let text;
    try {
      text = render(readFileSync(join(CHART, 'templates', file), 'utf8'), scope, where);
    } catch (error) {
      problems.push(error.message);
      continue;
    }
    if (process.env.CHART_PRINT === variant) process.stdout.write(`---\n# ${file}\n${text}\n`);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) {
        problems.push(`${where}: rendered YAML does not parse: ${doc.errors[0].message.split('\n')[0]}`);
        continue;
      }
      const object = doc.toJS();
      if (object === null || object === undefined) continue;
      if (!object.apiVersion || !object.kind || !object.metadata?.name) problems.push(`${where}: an object without apiVersion, kind or metadata.name`);
      objects.push({ where, object });
    }
  }

  const configMap = objects.find((o) => o.object.kind === 'ConfigMap');
  const config = configMap ? parse(configMap.object.data['dbswatch.yaml']) : undefined;
  if (!config) problems.push(`${variant}: no ConfigMap with dbswatch.yaml`);
  const port = config?.http?.port ?? 9464;
  if (config?.http?.host && !['127.0.0.1', 'localhost', '::1'].includes(config.http.host) && !config.http.authToken && !config.http.authTokenFile) {
    problems.push(`${variant}: config http.host ${config.http.host} is not loopback but there is no http.authToken/authTokenFile`);
  }
  const deployments = objects.filter((o) => o.object.kind === 'Deployment');
  if (deployments.length === 0) problems.push(`${variant}: no Deployment rendered`);
  for (const { where, object } of deployments) {
    const pod = object.spec.template.spec;
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
    for (const c of pod.containers) {
      const http = c.ports?.find((p) => p.name === 'http');
      if (http?.containerPort !== port) problems.push(`${where}: containerPort ${http?.containerPort} ≠ config http.port ${port}`);
      for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]) {
        const get = c[probe]?.httpGet;
        const probePort = get?.port === 'http' ? http?.containerPort : get?.port;
        if (get?.path !== path) problems.push(`${where}: ${probe} path is ${get?.path}, want ${path}`);
        if (probePort !== port) problems.push(`${where}: ${probe} port ${get?.port} ≠ config http.port ${port}`);
      }
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (c.command?.join(' ') !== 'node dist/src/cli.js') problems.push(`${where}: command must be node dist/src/cli.js (the image's entrypoint would run the role name as a script)`);
    }
  }
  for (const { where, object } of objects.filter((o) => o.object.kind === 'Service')) {
    if (object.spec.ports.some((p) => p.targetPort !== 'http' && p.targetPort !== port)) problems.push(`${where}: Service targetPort does not reach http.port`);
  }
  const kinds = objects.map((o) => o.object.kind).sort();
  console.log(`chart ${variant}: ${objects.length} objects (${kinds.join(', ')}), http.port ${port}`);
}

if (problems.length) {
  console.error(`chart check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('chart check OK');
