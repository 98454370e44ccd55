/**
 * DNS-rebinding protection, pure: which `Host` headers the HTTP server
 * answers. A hostile web page can make the operator's browser resolve its
 * own name (`attacker.example`) to 127.0.0.1 and then read this server as
 * "same origin"; the one thing it cannot change is the `Host` header, which
 * still names the attacker. So a request is answered only when its Host is:
 *
 * - `localhost`;
 * - the name the server is bound to (`http.host`, unless a wildcard);
 * - an IP literal (`127.0.0.1:9464`, a pod IP, `[::1]`): a browser sends
 *   one only when its address bar holds that IP, so the page's origin is
 *   the IP itself and no name was resolved — nothing to rebind. This keeps
 *   Kubernetes probes, Prometheus scrapes of the pod IP and Docker port
 *   mappings (where the container sees its own address, not 127.0.0.1)
 *   working without configuration;
 * - an entry of `http.allowedHosts` (`name`, `*.name`, `name:port`,
 *   `[v6]:port`), for the DNS names operators and reverse proxies use.
 *
 * Ports are not compared for the built-in cases (a port-forward changes
 * them, and rebinding changes only the name); an `allowedHosts` entry with
 * a port requires that port. A request without a Host header (HTTP/1.0) is
 * not from a browser and is answered.
 */
import { isIP } from 'node:net';

/** What the config allows. */
export interface HostPolicy {
  /** `http.host` as configured (`0.0.0.0` / `::` mean "any interface" and match nothing by themselves). */
  readonly boundHost: string;
  /** `http.allowedHosts`. Default: none. */
  readonly allowedHosts: readonly string[];
}

/** A `Host` header or an `allowedHosts` entry split into a lower-case name (IPv6 without brackets) and a port. */
export interface HostParts {
  readonly name: string;
  readonly port?: number;
}

/** Characters a Host header may hold: names, IPv4, bracketed IPv6, a port. Anything else is refused outright. */
const HOST_CHARS = /^[A-Za-z0-9._*\-[\]:]+$/;

/** `host[:port]` → its parts, or undefined when it is not one (userinfo, paths, spaces, bad ports). Pure. */
export function parseHost(value: string): HostParts | undefined {
  if (value.length === 0 || value.length > 300 || !HOST_CHARS.test(value)) return undefined;
  let name: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    name = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(name) !== 6) return undefined;
  } else {
    const colon = value.indexOf(':');
    if (colon !== value.lastIndexOf(':')) return undefined; // bare IPv6 must be bracketed
    name = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
    if (name.includes('[') || name.includes(']')) return undefined;
  }
  name = canonicalIp(name.toLowerCase().replace(/\.$/, ''));
  if (name === '') return undefined;
  if (portText === undefined) return { name };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { name, port } : undefined;
}

/** One spelling per address: `::ffff:10.0.0.5` → `10.0.0.5`, `0:0::1` → `::1`; names unchanged. */
function canonicalIp(name: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(name);
  if (mapped?.[1]) return mapped[1];
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name;
}

/** An `http.allowedHosts` entry → its parts, or undefined when it is not `name`, `*.name`, `ip` or `[v6]`, each with an optional port. Pure. */
export function parseHostPattern(pattern: string): HostParts | undefined {
  const parts = parseHost(pattern);
  if (!parts) return undefined;
  const rest = parts.name.startsWith('*.') ? parts.name.slice(2) : parts.name;
  return rest !== '' && !rest.includes('*') && !rest.startsWith('.') && !rest.includes('..') ? parts : undefined;
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '']);

/** True when `pattern` (an `allowedHosts` entry) covers `host`. `*.example.com` covers names below it, not itself. */
function matches(pattern: string, host: HostParts): boolean {
  const want = parseHostPattern(pattern);
  if (!want) return false;
  if (want.port !== undefined && want.port !== (host.port ?? 80)) return false;
  if (want.name.startsWith('*.')) return host.name.endsWith(want.name.slice(1)) && host.name.length > want.name.length - 1;
  return want.name === host.name;
}

/** Whether the server answers a request with this `Host` header. Pure. */
export function hostAllowed(hostHeader: string | undefined, policy: HostPolicy): boolean {
  if (hostHeader === undefined) return true;
  const host = parseHost(hostHeader);
  if (!host || host.name.includes('*')) return false;
  if (host.name === 'localhost') return true;
  if (isIP(host.name) !== 0) return true;
  const bound = parseHost(policy.boundHost.includes(':') && !policy.boundHost.startsWith('[') ? `[${policy.boundHost}]` : policy.boundHost);
  if (bound && !WILDCARD_BINDS.has(bound.name) && bound.name === host.name) return true;
  return policy.allowedHosts.some((pattern) => matches(pattern, host));
}

/** The refusal's text: what was refused and how to allow it, without echoing more than a short, clean Host. */
export function hostRefusal(hostHeader: string | undefined): string {
  const shown = (hostHeader ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  return (
    `dbswatch: requests for host "${shown}" are refused (DNS rebinding protection). ` +
    'Use http://localhost:<port>/ or the address the server listens on, ' +
    'or add this name to http.allowedHosts in the config.\n'
  );
}
