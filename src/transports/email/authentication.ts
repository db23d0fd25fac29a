import { promises as dns } from "node:dns";
import { authenticate, type DNSResolver } from "mailauth";
import type { EmailConfig } from "../../config.js";

export type { DNSResolver };

/** A verdict keyword of one check (RFC 8601): pass, fail, softfail, neutral, none, temperror, permerror, policy. */
export type AuthVerdict = string;

/** The SPF, DKIM and DMARC verdicts of one inbound message, stored in its metadata (email.authentication). */
export interface AuthenticationResults {
  spf: AuthVerdict;
  /** The best DKIM signature's verdict ("none": not signed). */
  dkim: AuthVerdict;
  /** Domains whose DKIM signature passed. */
  dkimDomains: string[];
  dmarc: AuthVerdict;
  /** The sender domain's published DMARC policy (none, quarantine, reject), when it has one. */
  dmarcPolicy: string | null;
  /** The Authentication-Results header text mailauth wrote, for the record. */
  header: string;
}

/** Where the message came from, when known (SMTP: the client; HTTP relays: read from Received). */
export interface SenderContext {
  ip?: string | null;
  helo?: string | null;
  /** The envelope sender (MAIL FROM), "" for a bounce. */
  mailFrom?: string | null;
}

/**
 * The DNS lookups of the checks: the configured servers (EMAIL_AUTH_DNS_SERVERS) or the system's,
 * each lookup bounded by dnsTimeoutMs. mailauth wants rows for TXT (each record's chunks) and
 * plain lists otherwise, which is what node:dns gives.
 */
export function dnsResolver(config: Pick<EmailConfig, "dnsServers" | "dnsTimeoutMs">): DNSResolver {
  const resolver = new dns.Resolver({ timeout: config.dnsTimeoutMs, tries: 2 });
  if (config.dnsServers) resolver.setServers(config.dnsServers);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

const resolvers = new WeakMap<object, DNSResolver>();

/**
 * Verifies SPF (for the client ip and envelope sender), DKIM and DMARC with mailauth. `resolver`
 * replaces DNS (tests use a fake one: this machine has no internet); default: dnsResolver(config).
 * Without an ip (a relay that POSTs the message), the topmost Received header and Return-Path are
 * trusted: the relay that added them authenticated with the channel's secret. Null when
 * verification is turned off (EMAIL_AUTH=off).
 */
export async function verifySender(config: EmailConfig, raw: Buffer, sender: SenderContext): Promise<AuthenticationResults | null> {
  if (!config.verifySenders) return null;
  let resolver = config.resolver ?? resolvers.get(config);
  if (!resolver) resolvers.set(config, (resolver = dnsResolver(config)));
  const trustReceived = !sender.ip;
  const result = await authenticate(raw, {
    ...(trustReceived ? { trustReceived: true } : { ip: sender.ip!, helo: sender.helo ?? undefined, sender: sender.mailFrom ?? "" }),
    mta: config.hostname,
    resolver,
    disableArc: true,
    disableBimi: true,
  });
  const signatures = result.dkim?.results ?? [];
  const passing = signatures.filter((s) => s.status?.result === "pass");
  // mailauth's lenient mode calls a body hash mismatch "neutral": it is a failed signature (RFC 6376 6.1.3), as strict mode says.
  const verdictOf = (s: (typeof signatures)[number]) => (s.status?.result === "neutral" && /body hash did not verify/.test(s.status.comment ?? "") ? "fail" : (s.status?.result ?? "none"));
  const dkim = passing.length ? "pass" : signatures[0] ? verdictOf(signatures[0]) : "none";
  const dmarc = result.dmarc ? result.dmarc.status?.result ?? "none" : "none";
  return {
    spf: result.spf ? (result.spf.status?.result ?? "none") : "none",
    dkim,
    dkimDomains: [...new Set(passing.map((s) => s.signingDomain).filter((d): d is string => !!d))],
    dmarc,
    dmarcPolicy: result.dmarc ? (result.dmarc.policy ?? result.dmarc.p ?? null) : null,
    header: (result.headers ?? "").trim().slice(0, 4000),
  };
}
