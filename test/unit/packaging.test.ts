/**
 * What can be checked of the packaging without a Docker daemon or a cluster:
 * the Dockerfile's stages, .dockerignore, compose's credential variables, and
 * the Helm chart render check (which must also fail on a broken chart).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM ') + 1);

  it('builds on the Node 24 bookworm-slim image, with a separate production-deps stage', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS deps|^FROM build AS deps$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('runs no package manager (no network) in the runtime stage, and probes the configured port', () => {
    expect(runtime).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime/);
    expect(runtime).not.toMatch(/^RUN /m);
    expect(runtime).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(runtime).toMatch(/HEALTHCHECK[^\n]*\\\n\s+CMD \["node", "dist\/src\/healthcheck\.js"\]/);
    expect(runtime).not.toContain('9464/healthz');
  });

  it('keeps the real config and local files out of the build context', () => {
    const ignore = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignore[ignore.findIndex((l) => l && !l.startsWith('#'))]).toBe('*');
    expect(ignore).toContain('config/dbswatch.yaml');
    expect(ignore).not.toContain('!config/');
    expect(dockerfile).not.toMatch(/COPY config \.\/config/);
  });
});

describe('docker-compose.yml', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8');
  it.each([
    'ALIBABA_CLOUD_ACCESS_KEY_ID',
    'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    'ALIBABA_CLOUD_SECURITY_TOKEN',
    'ALIBABA_CLOUD_ROLE_ARN',
    'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
  ])('passes %s to dbswatch', (name) => {
    expect(compose).toMatch(new RegExp(`^\\s+${name}: \\$\\{${name}:-\\}$`, 'm'));
  });
  it('documents the credentials-profile mount and runs an init', () => {
    expect(compose).toContain('/home/node/.alibabacloud/credentials:ro');
    expect(compose).toMatch(/^\s+init: true$/m);
  });
});

describe('Helm chart render check', () => {
  it('renders every variant and passes', () => {
    const out = execFileSync(process.execPath, ['.ci/check-chart.mjs'], { encoding: 'utf8' });
    expect(out).toContain('chart check OK');
    expect(out).toMatch(
      /chart everything on: 8 objects \(ConfigMap, Deployment, Deployment, Deployment, PodDisruptionBudget, Service, ServiceAccount, ServiceMonitor\)/,
    );
  });

  it.each([
    [
      'a probe on a fixed port',
      'templates/deployment-run.yaml',
      'port: {{ .Values.config.http.port }}\n            initialDelaySeconds',
      'port: 9999\n            initialDelaySeconds',
      /livenessProbe port 9999 ≠ config http\.port 9464/,
    ],
    ['a template that does not parse', 'templates/service.yaml', '  type: {{ .Values.service.type }}', '  type: [unclosed', /does not parse/],
    [
      'a template function the renderer does not know',
      'templates/pdb.yaml',
      '{{ .Values.podDisruptionBudget.maxUnavailable }}',
      '{{ .Values.podDisruptionBudget.maxUnavailable | int }}',
      /unsupported function "int"/,
    ],
  ])('fails on %s', (_what, file, from, to, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'dbswatch-chart-'));
    try {
      cpSync('deploy/helm/dbswatch', dir, { recursive: true });
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(from);
      writeFileSync(path, text.replace(from, to));
      const result = spawnSync(process.execPath, ['.ci/check-chart.mjs', dir], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
