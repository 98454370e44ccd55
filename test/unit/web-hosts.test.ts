/**
 * DNS-rebinding protection, pure: which Host headers the server answers,
 * how `http.allowedHosts` entries match, and the config key's errors.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { type HostPolicy, hostAllowed, hostRefusal, parseHost, parseHostPattern } from '../../src/web/hosts.js';

const loopback: HostPolicy = { boundHost: '127.0.0.1', allowedHosts: [] };
const pod: HostPolicy = { boundHost: '0.0.0.0', allowedHosts: ['dbswatch.ops.svc.cluster.local', '*.corp.example', 'proxy.example:8443'] };
const v6: HostPolicy = { boundHost: '::1', allowedHosts: [] };
const named: HostPolicy = { boundHost: 'dbswatch-1.lan', allowedHosts: [] };

describe('hostAllowed', () => {
  it.each<[string, string | undefined, HostPolicy, boolean]>([
    // Rebinding: the attacker's name, whatever it resolves to, with or without our port.
    ['attacker name with our port', 'attacker.example:9464', loopback, false],
    ['attacker name', 'attacker.example', loopback, false],
    ['attacker name that starts like localhost', 'localhost.attacker.example:9464', loopback, false],
    ['attacker name that starts like the IP', '127.0.0.1.attacker.example', loopback, false],
    ['a subdomain of localhost (left to DNS on some systems)', 'x.localhost', loopback, false],
    // Ours.
    ['localhost', 'localhost:9464', loopback, true],
    ['localhost, another port (port-forward)', 'localhost:8080', loopback, true],
    ['localhost in capitals with a trailing dot', 'LocalHost.:9464', loopback, true],
    ['the bound address', '127.0.0.1:9464', loopback, true],
    ['the bound address without a port', '127.0.0.1', loopback, true],
    ['no Host (HTTP/1.0)', undefined, loopback, true],
    // An IP literal cannot be rebound: the browser's origin is then that IP.
    ['another IP literal', '10.0.0.5:9464', loopback, true],
    ['a bound host name', 'dbswatch-1.lan:9464', named, true],
    ['another name on a named bind', 'dbswatch-2.lan:9464', named, false],
    ['the bound IPv6 address', '[::1]:9464', v6, true],
    ['the bound IPv6 address, spelled long', '[0:0:0:0:0:0:0:1]:9464', v6, true],
    // A wildcard bind (container): IP literals (probes, scrapes of the pod IP, Docker port mappings) and the listed names.
    ['the pod IP', '10.1.2.3:9464', pod, true],
    ['an IPv6 pod IP', '[fd00::1:5]:9464', pod, true],
    ['an unlisted name on a wildcard bind', 'dbswatch.other.svc:9464', pod, false],
    ['a listed name, any port', 'dbswatch.ops.svc.cluster.local:9464', pod, true],
    ['a listed name in capitals', 'DBSWATCH.OPS.SVC.CLUSTER.LOCAL', pod, true],
    ['a name below *.corp.example', 'status.corp.example', pod, true],
    ['two levels below *.corp.example', 'a.b.corp.example:443', pod, true],
    ['*.corp.example does not cover corp.example itself', 'corp.example', pod, false],
    ['*.corp.example does not cover evilcorp.example', 'evilcorp.example', pod, false],
    ['a listed name:port, that port', 'proxy.example:8443', pod, true],
    ['a listed name:port, another port', 'proxy.example:9464', pod, false],
    ['a listed name:port, no port (= 80)', 'proxy.example', pod, false],
    // Malformed or smuggled values.
    ['userinfo', 'attacker.example@127.0.0.1', loopback, false],
    ['a path', '127.0.0.1/x', loopback, false],
    ['a space', 'localhost 9464', loopback, false],
    ['an unclosed bracket', '[::1', v6, false],
    ['bare IPv6', '::1', v6, false],
    ['port 0', 'localhost:0', loopback, false],
    ['port out of range', 'localhost:65536', loopback, false],
    ['empty', '', loopback, false],
    ['a star in a Host header', '*.corp.example', pod, false],
  ])('%s: %s → %s', (_label, host, policy, expected) => {
    expect(hostAllowed(host, policy)).toBe(expected);
  });
});

describe('parseHost / parseHostPattern', () => {
  it('splits name and port, lower-cases and canonicalises IPs', () => {
    expect(parseHost('Example.COM:8080')).toEqual({ name: 'example.com', port: 8080 });
    expect(parseHost('[::FFFF:10.0.0.1]')).toEqual({ name: '10.0.0.1' });
    expect(parseHost('[0::1]:1')).toEqual({ name: '::1', port: 1 });
  });

  it.each([
    ['status.example.com', true],
    ['*.example.com', true],
    ['status.example.com:8443', true],
    ['10.0.0.5', true],
    ['[fd00::5]:9464', true],
    ['*', false],
    ['*.', false],
    ['a*b.example', false],
    ['*.*.example', false],
    ['a..b', false],
    ['http://status.example.com', false],
    ['status.example.com:99999', false],
    ['', false],
  ])('%s → valid %s', (pattern, valid) => {
    expect(parseHostPattern(pattern) !== undefined).toBe(valid);
  });
});

describe('http.allowedHosts in the config', () => {
  it('defaults to none and keeps valid entries', () => {
    expect(parseConfig('http: { port: 0 }\n', {}).http.allowedHosts).toBeUndefined();
    expect(parseConfig('http: { allowedHosts: ["status.example.com", "*.svc.example:9464"] }\n', {}).http.allowedHosts).toEqual([
      'status.example.com',
      '*.svc.example:9464',
    ]);
  });

  it('names the key and the entry of a bad pattern', () => {
    let problems: readonly string[] = [];
    try {
      parseConfig('http: { allowedHosts: ["ok.example", "http://bad.example/"] }\n', {});
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^http\.allowedHosts\[1\]: must be host or host:port/)]);
  });
});

describe('hostRefusal', () => {
  it('says what was refused and how to allow it, with the Host cut and cleaned', () => {
    const text = hostRefusal(`attacker.example:9464\u001b[31m${'x'.repeat(300)}`);
    expect(text).toContain('"attacker.example:9464?[31m');
    expect(text).toContain('http.allowedHosts');
    expect(text.length).toBeLessThan(400);
  });
});
