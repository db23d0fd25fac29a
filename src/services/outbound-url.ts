import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { Readable } from "node:stream";
import { ValidationError } from "./errors.js";

/**
 * The one guard for every request this server sends to a URL someone else gave it (partner
 * webhooks today; any later fetch of a partner's or Meta's attachment URL goes through
 * `outboundFetch` too). Operator-set URLs (JWT_JWKS_URL, GRAPH_API_BASE_URL, SMTP_URL) are not
 * guarded: the operator chose them.
 *
 * A URL is refused when its host is, or resolves to, an address that is not globally reachable
 * (loopback, private, link-local and cloud metadata, carrier-grade NAT, multicast, reserved,
 * documentation ranges, and the IPv6 forms that embed such an IPv4 address) unless the operator's
 * allowlist (WEBHOOK_ALLOW_PRIVATE) covers it. The check runs when the URL is registered and again
 * when the request is sent: there on the addresses the socket actually connects to (a custom
 * `lookup` for node:http), so a name that resolved to a public address at registration and to
 * 127.0.0.1 later (DNS rebinding) is refused too. Redirects are never followed.
 */

export interface OutboundConfig {
  /** Non-public destinations allowed anyway: "all", or CIDR ranges. Default none (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: "all" | string[];
  /** Only https URLs. Default: on when NODE_ENV=production. */
  requireHttps: boolean;
  /** Resolves a host name to its addresses instead of the system resolver (a seam for tests). */
  lookup?: (hostname: string) => Promise<string[]>;
}

/** A destination the guard refuses. Retrying does not help: the delivery fails at once. */
export class OutboundRefusedError extends Error {}

interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

function ipv4Bits(address: string): bigint {
  return address.split(".").reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** 128 bits of an IPv6 address (any valid textual form, with or without an embedded dotted quad). */
function ipv6Bits(address: string): bigint {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4Bits(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address (a /32 or /128). Throws with a readable message. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, extra] = text.trim().split("/");
  const family = net.isIP(address);
  if (!family || extra !== undefined) throw new Error(`"${text}" is not an IP address or CIDR range`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`"${text}" has a bad prefix length (0-${max})`);
  return { family: family as 4 | 6, bits: family === 4 ? ipv4Bits(address) : ipv6Bits(address), prefix };
}

function contains(range: Cidr, family: 4 | 6, bits: bigint): boolean {
  if (range.family !== family) return false;
  const shift = BigInt((family === 4 ? 32 : 128) - range.prefix);
  return bits >> shift === range.bits >> shift;
}

/** Not globally reachable (IANA special-purpose registries), with what each range is. */
const RESERVED: [string, string][] = [
  ["0.0.0.0/8", "\"this network\""],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local (cloud metadata)"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "IPv4-compatible"],
  ["64:ff9b:1::/48", "local NAT64"],
  ["100::/64", "discard"],
  ["2001::/23", "IETF protocol assignments"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
  ["5f00::/16", "segment routing"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];
const RESERVED_RANGES = RESERVED.map(([cidr, what]) => ({ range: parseCidr(cidr), what: `${what}, ${cidr}` }));

/** IPv6 forms that carry an IPv4 address (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16): that address. */
function embeddedIpv4(bits: bigint): bigint | undefined {
  if (bits >> 32n === 0xffffn) return bits & 0xffffffffn;
  if (bits >> 32n === 0x64ff9b0000000000000000n) return bits & 0xffffffffn;
  if (bits >> 112n === 0x2002n) return (bits >> 80n) & 0xffffffffn;
  return undefined;
}

/** Why `address` is not a public destination ("loopback, 127.0.0.0/8"), or null when it is one. */
export function reservedRange(address: string): string | null {
  const family = net.isIP(address) as 0 | 4 | 6;
  if (!family) return "not an IP address";
  let bits = family === 4 ? ipv4Bits(address) : ipv6Bits(address);
  let fam: 4 | 6 = family;
  const v4 = family === 6 ? embeddedIpv4(bits) : undefined;
  if (v4 !== undefined) [bits, fam] = [v4, 4];
  return RESERVED_RANGES.find(({ range }) => contains(range, fam, bits))?.what ?? null;
}

const allowCache = new WeakMap<object, Cidr[]>();

/** Whether the guard lets a request reach `address` under `config`. */
export function addressAllowed(address: string, config: OutboundConfig): boolean {
  if (reservedRange(address) === null || config.allowPrivate === "all") return true;
  let ranges = allowCache.get(config.allowPrivate);
  if (!ranges) allowCache.set(config.allowPrivate, (ranges = config.allowPrivate.map(parseCidr)));
  const family = net.isIP(address) as 4 | 6;
  const bits = family === 4 ? ipv4Bits(address) : ipv6Bits(address);
  const v4 = family === 6 ? embeddedIpv4(bits) : undefined;
  return ranges.some((r) => contains(r, family, bits) || (v4 !== undefined && contains(r, 4, v4)));
}

function refuseAddress(host: string, address: string, config: OutboundConfig): void {
  if (addressAllowed(address, config)) return;
  const shown = host === address ? address : `${host} resolves to ${address}, which`;
  throw new OutboundRefusedError(`${shown} is not a public address (${reservedRange(address)}); WEBHOOK_ALLOW_PRIVATE can allow it`);
}

/** The URL's host as a bare name or address (no IPv6 brackets, no trailing dot). */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");

/**
 * Checks what can be checked without DNS: an http(s) URL (https only when requireHttps), and a
 * host that is not a literal non-public address or a `localhost` name. Returns the parsed URL;
 * throws OutboundRefusedError.
 */
export function checkOutboundUrl(raw: string, config: OutboundConfig): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefusedError("Not a valid URL");
  }
  if (url.protocol !== "https:" && (config.requireHttps || url.protocol !== "http:")) {
    throw new OutboundRefusedError(config.requireHttps ? "Must be an https URL" : "Must be an http(s) URL");
  }
  const host = bareHost(url);
  if (net.isIP(host)) refuseAddress(host, host, config);
  else if (/(^|\.)localhost$/i.test(host)) refuseAddress(host, "127.0.0.1", config);
  return url;
}

async function resolve(hostname: string, config: OutboundConfig): Promise<string[]> {
  if (config.lookup) return config.lookup(hostname);
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** The addresses of `hostname`, every one checked; throws OutboundRefusedError if any is not allowed. */
async function allowedAddresses(hostname: string, config: OutboundConfig): Promise<string[]> {
  const addresses = await resolve(hostname, config);
  if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  for (const address of addresses) refuseAddress(hostname, address, config);
  return addresses;
}

/**
 * The check at registration: checkOutboundUrl, then the name's current addresses. A name that
 * does not resolve (yet) is accepted: the request will be checked again when it is sent.
 */
export async function assertOutboundUrl(raw: string, config: OutboundConfig): Promise<URL> {
  const url = checkOutboundUrl(raw, config);
  const host = bareHost(url);
  if (net.isIP(host)) return url;
  try {
    await allowedAddresses(host, config);
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw err;
  }
  return url;
}

/** assertOutboundUrl for an input field: a refused URL is a ValidationError naming `path` (e.g. ["input", "webhookUrl"]). */
export async function validateOutboundUrl(raw: string, config: OutboundConfig, path: string[]): Promise<void> {
  try {
    await assertOutboundUrl(raw, config);
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw ValidationError.field(path, err.message);
    throw err;
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** node:net's `lookup` option: connects only to addresses the guard allowed. */
function guardedLookup(config: OutboundConfig) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    allowedAddresses(hostname, config).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = addresses.filter((a) => !family || net.isIP(a) === family);
        if (usable.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), "");
        if (options.all) callback(null, usable.map((address) => ({ address, family: net.isIP(address) })));
        else callback(null, usable[0], net.isIP(usable[0]));
      },
      (err: NodeJS.ErrnoException) => callback(err, ""),
    );
  };
}

/** Keep-alive agents per guard configuration: a pooled socket was connected to an address that configuration allowed. */
const agents = new WeakMap<OutboundConfig, { http: http.Agent; https: https.Agent }>();
function agentsFor(config: OutboundConfig) {
  let pair = agents.get(config);
  if (!pair) agents.set(config, (pair = { http: new http.Agent({ keepAlive: true, timeout: 5000 }), https: new https.Agent({ keepAlive: true, timeout: 5000 }) }));
  return pair;
}

export interface OutboundInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

/**
 * `fetch` for URLs someone else gave the server: the same checks as checkOutboundUrl, then a
 * node:http(s) request whose socket connects only to resolved addresses the guard allowed (the
 * Host header and TLS server name stay the URL's host, so certificates are verified as usual).
 * Redirects are returned, never followed. Rejects with OutboundRefusedError for a refused
 * destination, with the network error otherwise.
 */
export function outboundFetch(raw: string, init: OutboundInit, config: OutboundConfig): Promise<Response> {
  let url: URL;
  try {
    url = checkOutboundUrl(raw, config);
  } catch (err) {
    return Promise.reject(err);
  }
  const secure = url.protocol === "https:";
  const method = (init.method ?? "GET").toUpperCase();
  return new Promise<Response>((resolvePromise, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method, headers: init.headers, signal: init.signal, agent: secure ? agentsFor(config).https : agentsFor(config).http, lookup: guardedLookup(config) as unknown as net.LookupFunction },
      (res) => {
        const status = res.statusCode ?? 502;
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
        }
        const empty = method === "HEAD" || status === 204 || status === 205 || status === 304;
        if (empty) res.resume();
        const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        resolvePromise(new Response(body, { status, statusText: res.statusMessage, headers }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}
