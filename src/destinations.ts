/**
 * Where a channel may send (pure; used by config.ts). A webhook or SMTP host
 * from the config is refused when it points at a link-local or cloud metadata
 * address (169.254.0.0/16 — 169.254.169.254 is the ECS/EC2 metadata service —,
 * fd00:ec2::254, Alibaba's 100.100.100.200), a private or shared network
 * range, or is an IP written in an encoded form (`0x7f000001`, `2130706433`,
 * `0177.0.0.1`: all 127.0.0.1 to a resolver, and a classic way to slip past a
 * review). Loopback written plainly (`127.0.0.1`, `localhost`, `[::1]`) stays
 * allowed: local relays, the test sinks and the demo use it. A channel that
 * really targets a private network sets `allowPrivateDestinations: true`.
 *
 * Host names are not resolved here (that would need the network at load time
 * and would not stop DNS rebinding anyway).
 */
import { isIP } from 'node:net';

/**
 * The host as written in a URL string (before the URL parser canonicalises it, which for http(s)
 * turns `0x7f000001` into `127.0.0.1` and hides the trick). Lower-case, brackets and port removed.
 */
export function rawHost(url: string): string {
  const afterScheme = url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const authority = afterScheme.split(/[/?#]/, 1)[0] ?? '';
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >= 0 ? host.indexOf(']') : undefined).toLowerCase();
  return host.replace(/:\d*$/, '').toLowerCase();
}

/** inet_aton's reading of a host (1–4 parts, each decimal, 0-octal or 0x-hex), or undefined. */
export function looseIPv4(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^\d+$/.test(part)) value = Number(part);
    else return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return undefined;
  return values.reduce((acc, v, i) => acc + v * 256 ** (3 - i), 0) + last;
}

const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

const V4_REFUSED: readonly [string, number, number, string][] = [
  ['0.0.0.0', 8, 0, 'the unspecified network'],
  ['10.0.0.0', 8, 0, 'a private network'],
  ['100.100.100.200', 32, 0, "Alibaba Cloud's metadata service"],
  ['100.64.0.0', 10, 0, 'a shared (carrier-grade NAT) network'],
  ['169.254.0.0', 16, 0, 'a link-local address (cloud metadata services live here)'],
  ['172.16.0.0', 12, 0, 'a private network'],
  ['192.168.0.0', 16, 0, 'a private network'],
].map(([base, bits, , why]) => [base as string, bits as number, looseIPv4(base as string) as number, why as string]);

function v4Problem(n: number): string | undefined {
  for (const [, bits, base, why] of V4_REFUSED) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return why;
  }
  return undefined;
}

/** Eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or undefined. */
function ipv6Groups(host: string): number[] | undefined {
  if (isIP(host) !== 6) return undefined;
  let text = host.split('%')[0] as string;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = looseIPv4(v4[1] as string) as number;
    text = `${text.slice(0, v4.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g, 16));
}

function v6Problem(groups: number[]): string | undefined {
  const [g0 = 0, , , , , g5 = 0, g6 = 0, g7 = 0] = groups;
  if (groups.slice(0, 5).every((g) => g === 0) && g5 === 0xffff) return v4Problem(g6 * 65_536 + g7);
  if (groups.every((g) => g === 0)) return 'the unspecified address';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address';
  if (groups.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')) return 'the EC2 metadata service';
  if ((g0 & 0xfe00) === 0xfc00) return 'a private (unique local) network';
  return undefined;
}

/**
 * Why a channel must not send to the host of `url` (operator words, no secret), or undefined when
 * it may. `what` names the key, e.g. `webhookUrl`.
 */
export function destinationProblem(url: string, what: string): string | undefined {
  const host = rawHost(url);
  if (!host) return undefined;
  const hint = 'set allowPrivateDestinations: true on the channel if this is intended';
  const v4 = isIP(host) === 6 ? undefined : looseIPv4(host);
  if (v4 !== undefined) {
    if (dotted(v4) !== host) return `${what} writes an IP address in an encoded form (${host} is ${dotted(v4)}): write it as ${dotted(v4)}, or ${hint}`;
    const why = v4Problem(v4);
    return why ? `${what} points at ${why} (${host}): refused, ${hint}` : undefined;
  }
  const groups = ipv6Groups(host);
  const why = groups ? v6Problem(groups) : undefined;
  return why ? `${what} points at ${why} ([${host}]): refused, ${hint}` : undefined;
}

/** An email address, alone or as `Name <address>`: a local part and a host name. */
const ADDRESS = /^[^\s@<>()",;:\\[\]]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)*$/u;

/** True for `a@example.com` and `Name <a@example.com>`; false for `@@@`, `a@`, `a b@c`. */
export function isEmailAddress(value: string): boolean {
  const named = /^[^<>]*<([^<>]+)>$/.exec(value.trim());
  return ADDRESS.test(named ? (named[1] as string) : value.trim());
}
