import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseCidr, type OutboundConfig } from "./services/outbound-url.js";
import { LOG_LEVELS, type LogLevel } from "./log.js";

/** The whole server configuration, read once from the environment. */
export interface Config {
  port: number;
  host: string;
  /** Embedded database, generated dev secret and stored files live here. */
  dataDir: string;
  /** Real PostgreSQL when set; otherwise the embedded PGlite in dataDir. */
  databaseUrl?: string;
  redisUrl?: string;
  nodeEnv: "development" | "production" | "test";
  jwt: {
    /** HS256 secret; when unset outside production, one is generated into dataDir. */
    secret?: string;
    /** Asymmetric keys (RS256/ES256/EdDSA) from a JWKS endpoint, used instead of the secret. */
    jwksUrl?: string;
    issuer: string;
    audience: string;
  };
  /** Seed the demo account on the first start of an empty embedded database. */
  seedOnEmptyEmbedded: boolean;
  /** Run the outbound delivery worker (webhooks, email, Graph API) in this process. */
  deliveryWorker: boolean;
  /** JSON log lines at or above this level (LOG_LEVEL). Default info; silent under NODE_ENV=test. */
  logLevel: LogLevel;
  /** GET /metrics (Prometheus): bearer token a scraper must send when set (METRICS_TOKEN); unset, the route is open. */
  metrics: { token?: string };
  /** OpenTelemetry traces over OTLP/HTTP (JSON): off unless an endpoint is set. */
  tracing: {
    /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces". */
    tracesUrl?: string;
    /** OTEL_EXPORTER_OTLP_HEADERS ("key=value,key2=value2"), e.g. a collector's API key. */
    headers: Record<string, string>;
    /** OTEL_SERVICE_NAME. Default "inbox-server". */
    serviceName: string;
  };
  /** Query limits, applied alike to HTTP, SSE and WebSocket operations. */
  limits: Limits;
  /** Per-caller rate limits (in Redis when redisUrl is set, else in memory). */
  rateLimit: RateLimits;
  websocket: {
    /** Close with 4408 when no connection_init arrives within this time. Default 10000. */
    initTimeoutMs: number;
    /** Concurrent subscriptions per connection; the excess is refused with an error message. Default 50. */
    maxSubscriptions: number;
    /** Longest a frame waits to share its socket write under load (0: end of the turn). */
    maxCoalesceMs: number;
  };
  /** Built-in channel transports: email (SMTP out, raw MIME in), Meta webhooks and Graph API, stored files. */
  transports: TransportConfig;
  /** Requests to URLs others gave the server (partner webhooks): which destinations are refused (src/services/outbound-url.ts). */
  outbound: OutboundConfig;
  /** Browser origins trusted with agent and partner tokens (src/http/cors.ts). */
  cors: CorsConfig;
}

export interface CorsConfig {
  /**
   * Origins (`https://inbox.example.com`, `https://*.example.com`) whose pages may call the agent
   * API and /attachments with credentials (CORS_ORIGINS, comma-separated). Default none: the public
   * visitor API still answers every origin, without credentials.
   */
  origins: string[];
}

export interface TransportConfig {
  /** Outbound mail server (SMTP_URL, smtp:// or smtps://); unset: email deliveries fail and retry until it is set. */
  smtpUrl?: string;
  /** Domain of generated Message-IDs and of the notification sender address. Default "inbox.local" (SMTP_FROM_DOMAIN). */
  smtpFromDomain: string;
  /** Meta app secret: X-Hub-Signature-256 of Messenger/WhatsApp webhooks (META_APP_SECRET); unset refuses every webhook. */
  metaAppSecret?: string;
  /** Token Meta echoes in the webhook verification handshake (META_VERIFY_TOKEN). */
  metaVerifyToken?: string;
  /** Graph API base URL. Default https://graph.facebook.com/v19.0 (GRAPH_API_BASE_URL). */
  graphApiBaseUrl: string;
  /** Access token for Graph API sends when the channel has none of its own (META_ACCESS_TOKEN). */
  metaAccessToken?: string;
  /** Largest kept attachment of an inbound email; larger ones are skipped with a note. Default 5 MiB (MAX_ATTACHMENT_BYTES). */
  maxAttachmentBytes: number;
  /** Largest raw inbound email; larger bodies get 413 before parsing. Default 10 MiB (MAX_EMAIL_BYTES). */
  maxEmailBytes: number;
  /** Public origin of this server for absolute download URLs (PUBLIC_URL); unset: URLs are relative paths. */
  publicUrl?: string;
  /** The built-in SMTP receiver, sender authentication, auto-replies and DKIM signing (src/transports/email/). */
  email: EmailConfig;
}

export interface EmailConfig {
  /**
   * Where the built-in SMTP receiver listens (SMTP_LISTEN, host:port; port 0 picks one). Unset: off,
   * except in the embedded demo (no DATABASE_URL, NODE_ENV=development) where it is 127.0.0.1:2525
   * (an ephemeral port when 2525 is taken). "off" turns it off there too.
   */
  listen?: { host: string; port: number; demo: boolean };
  /** Name the receiver greets with and stamps in Received headers (SMTP_HOSTNAME). Default: the machine's host name. */
  hostname?: string;
  /** PEM certificate and key files offered with STARTTLS (SMTP_TLS_CERT, SMTP_TLS_KEY, both or neither); unset: no STARTTLS. */
  tls?: { certFile: string; keyFile: string };
  /** Concurrent SMTP connections; more are refused with 421. Default 100 (SMTP_MAX_CLIENTS). */
  maxClients: number;
  /** Verify SPF, DKIM and DMARC of inbound mail (EMAIL_AUTH, default on; "off" stores no verdicts). */
  verifySenders: boolean;
  /** DNS servers for those checks (EMAIL_AUTH_DNS_SERVERS, comma-separated ip or ip:port); unset: the system's. */
  dnsServers?: string[];
  /** Per-lookup DNS timeout. Default 3000 ms (EMAIL_AUTH_DNS_TIMEOUT_MS). */
  dnsTimeoutMs: number;
  /** Replaces DNS for those checks: set by code (a fake DNS in tests: this machine has no internet), never from the environment. */
  resolver?: (name: string, rrtype: string) => Promise<string[][] | string[]>;
  /** Automatic replies (acknowledgements) to one sender per channel and hour, at most. Default 3 (AUTO_REPLY_MAX_PER_HOUR). */
  autoReplyMaxPerHour: number;
  /** DKIM key for outbound mail (DKIM_PRIVATE_KEY: PEM text or a file path; DKIM_SELECTOR; DKIM_DOMAIN): all three or none. */
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

export interface Limits {
  /** Selection depth (introspection fields not counted). Default 10 (LIMIT_DEPTH). */
  maxDepth: number;
  /** Aliases per document. Default 15 (LIMIT_ALIASES). */
  maxAliases: number;
  /** Lexical tokens per document. Default 1000 (LIMIT_TOKENS). */
  maxTokens: number;
  /** Characters per document. Default 15000 (LIMIT_CHARACTERS). */
  maxCharacters: number;
  /** Directives per document. Default 50 (LIMIT_DIRECTIVES). */
  maxDirectives: number;
  /** Cost: every field counts 1, multiplied by the `first`/`last` of each enclosing page. Default 5000 (LIMIT_COST). */
  maxCost: number;
  /** Largest `first`/`last` accepted on any field, and most ids `nodes(ids:)` takes. Default 100 (LIMIT_PAGE_SIZE). */
  maxPageSize: number;
  /** Execution time before an operation answers with REQUEST_TIMEOUT. Default 30000 (REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** HTTP request body size; larger bodies get 413. Default 1 MiB (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Introspection, GraphiQL and "Did you mean" suggestions. Default: on except when NODE_ENV=production. */
  introspection: boolean;
}

export interface RateLimits {
  /** Query/Mutation root fields counted in the stricter intake budget, matched by name (RATE_LIMIT_INTAKE_FIELDS, comma-separated). */
  intakeFields: string[];
  /** Calls of each intake field per caller and window. Default 30 per 60 s (RATE_LIMIT_INTAKE_MAX, RATE_LIMIT_INTAKE_WINDOW_SECONDS; 100000 under NODE_ENV=test). */
  intakeMax: number;
  intakeWindowSeconds: number;
  /** Operations of any kind per caller and window. Default 600 per 60 s (RATE_LIMIT_OPERATIONS_MAX, RATE_LIMIT_OPERATIONS_WINDOW_SECONDS; 1000000 under NODE_ENV=test). */
  operationsMax: number;
  operationsWindowSeconds: number;
  /** Prefix of the counters' keys (Redis). Default "rl:"; under NODE_ENV=test a random one per server, so test servers sharing a Redis do not share budgets. */
  keyPrefix: string;
}

/** Intake- and login-like fields: anonymous or partner callers create rows through them. */
export const DEFAULT_INTAKE_FIELDS = ["publishInboundMessage", "startChat", "sendVisitorMessage", "submitForm", "registerChannelApp", "signIn", "requestSignInLink"];

export class ConfigError extends Error {}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

/** WEBHOOK_ALLOW_PRIVATE: "true" (every non-public address), unset/"false" (none), or comma-separated CIDR ranges. */
function allowPrivateVar(env: NodeJS.ProcessEnv): OutboundConfig["allowPrivate"] {
  const raw = (env.WEBHOOK_ALLOW_PRIVATE ?? "").trim();
  if (raw === "" || raw === "false") return [];
  if (raw === "true") return "all";
  return raw.split(",").map((part) => {
    try {
      parseCidr(part);
    } catch (err) {
      throw new ConfigError(`WEBHOOK_ALLOW_PRIVATE must be true, false or comma-separated CIDR ranges: ${(err as Error).message}`);
    }
    return part.trim();
  });
}

/** CORS_ORIGINS: comma-separated origins (scheme://host[:port], the host may start with "*."), normalized. */
function originsVar(env: NodeJS.ProcessEnv): string[] {
  return (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      const wildcard = /^[a-z]+:\/\/\*\./i.test(o);
      let url: URL | undefined;
      try {
        url = new URL(wildcard ? o.replace("*.", "wildcard.") : o);
      } catch {
        // reported below
      }
      if (!url || !["http:", "https:"].includes(url.protocol) || url.pathname !== "/" || url.search || url.hash || url.username) {
        throw new ConfigError(`CORS_ORIGINS must list origins such as https://inbox.example.com or https://*.example.com (no path), got "${o}"`);
      }
      return wildcard ? url.origin.replace("wildcard.", "*.") : url.origin;
    });
}

/** OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs (values URL-encoded, as OpenTelemetry specifies). */
function otlpHeadersVar(env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (env.OTEL_EXPORTER_OTLP_HEADERS ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas`);
    headers[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return headers;
}

function urlVar(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got ${url.protocol}`);
  return raw;
}

/** host:port (IPv6 hosts in brackets) for SMTP_LISTEN. */
function listenVar(raw: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:\s]+)):(\d{1,5})$/i.exec(raw.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`SMTP_LISTEN must be host:port such as 0.0.0.0:2525 (or "off"), got "${raw}"`);
  return { host: m[1] ?? m[2], port };
}

/** A PEM given inline, or the path of a file holding it. */
function pemVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  if (raw.includes("-----BEGIN")) return raw.replace(/\\n/g, "\n");
  try {
    return fs.readFileSync(raw, "utf8");
  } catch (err) {
    throw new ConfigError(`${name} is neither a PEM key nor a readable file: ${(err as Error).message}`);
  }
}

function emailVars(env: NodeJS.ProcessEnv, nodeEnv: Config["nodeEnv"]): EmailConfig {
  const rawListen = (env.SMTP_LISTEN ?? "").trim();
  const demo = !rawListen && !env.DATABASE_URL && nodeEnv === "development";
  const listen = rawListen === "off" ? undefined : rawListen ? { ...listenVar(rawListen), demo: false } : demo ? { host: "127.0.0.1", port: 2525, demo: true } : undefined;
  const [certFile, keyFile] = [env.SMTP_TLS_CERT || undefined, env.SMTP_TLS_KEY || undefined];
  if (!!certFile !== !!keyFile) throw new ConfigError("SMTP_TLS_CERT and SMTP_TLS_KEY go together: set both (PEM files) or neither");
  for (const [name, file] of [["SMTP_TLS_CERT", certFile], ["SMTP_TLS_KEY", keyFile]] as const) {
    if (file && !fs.existsSync(file)) throw new ConfigError(`${name}: no file at ${file}`);
  }
  const dnsServers = (env.EMAIL_AUTH_DNS_SERVERS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const server of dnsServers) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-f:]+\](:\d{1,5})?|[0-9a-f:]+)$/i.test(server)) throw new ConfigError(`EMAIL_AUTH_DNS_SERVERS must list IP addresses (ip or ip:port), got "${server}"`);
  }
  if (env.EMAIL_AUTH && !["on", "off"].includes(env.EMAIL_AUTH)) throw new ConfigError(`EMAIL_AUTH must be on or off, got "${env.EMAIL_AUTH}"`);
  const dkimKey = pemVar(env, "DKIM_PRIVATE_KEY");
  const dkimParts = [dkimKey, env.DKIM_SELECTOR, env.DKIM_DOMAIN].filter(Boolean).length;
  if (dkimParts !== 0 && dkimParts !== 3) throw new ConfigError("DKIM_PRIVATE_KEY, DKIM_SELECTOR and DKIM_DOMAIN go together: set all three or none");
  return {
    listen,
    hostname: env.SMTP_HOSTNAME || undefined,
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    maxClients: intVar(env, "SMTP_MAX_CLIENTS", 100, 1, 100_000),
    verifySenders: env.EMAIL_AUTH !== "off",
    dnsServers: dnsServers.length ? dnsServers : undefined,
    dnsTimeoutMs: intVar(env, "EMAIL_AUTH_DNS_TIMEOUT_MS", 3000, 10, 60_000),
    autoReplyMaxPerHour: intVar(env, "AUTO_REPLY_MAX_PER_HOUR", 3, 0, 10_000),
    dkim: dkimKey ? { domainName: env.DKIM_DOMAIN!, keySelector: env.DKIM_SELECTOR!, privateKey: dkimKey } : undefined,
  };
}

/** Reads and validates the environment; throws ConfigError with a clear message on bad values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = (env.NODE_ENV ?? "development") as Config["nodeEnv"];
  if (!["development", "production", "test"].includes(nodeEnv)) throw new ConfigError(`NODE_ENV must be development, production or test, got "${env.NODE_ENV}"`);
  const jwksUrl = urlVar(env, "JWT_JWKS_URL", ["http:", "https:"]);
  const secret = env.JWT_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) throw new ConfigError("JWT_SECRET must be at least 32 characters");
  if (nodeEnv === "production" && !secret && !jwksUrl) throw new ConfigError("JWT_SECRET or JWT_JWKS_URL is required when NODE_ENV=production");
  const logLevel = (env.LOG_LEVEL || (nodeEnv === "test" ? "silent" : "info")) as Config["logLevel"];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${env.LOG_LEVEL}"`);
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError("METRICS_TOKEN must be at least 16 characters");
  const otlpBase = urlVar(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  const tracesUrl = urlVar(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"]) ?? (otlpBase ? `${otlpBase.replace(/\/+$/, "")}/v1/traces` : undefined);
  return {
    port: intVar(env, "PORT", 4000),
    host: env.HOST || "0.0.0.0",
    dataDir: path.resolve(env.DATA_DIR || "data"),
    databaseUrl: urlVar(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
    redisUrl: urlVar(env, "REDIS_URL", ["redis:", "rediss:"]),
    nodeEnv,
    jwt: {
      secret,
      jwksUrl,
      issuer: env.JWT_ISSUER || "inbox-server",
      audience: env.JWT_AUDIENCE || "inbox-api",
    },
    seedOnEmptyEmbedded: env.SEED_ON_FIRST_START !== "false",
    deliveryWorker: env.DELIVERY_WORKER !== "false",
    logLevel,
    metrics: { token: metricsToken },
    tracing: { tracesUrl, headers: otlpHeadersVar(env), serviceName: env.OTEL_SERVICE_NAME || "inbox-server" },
    limits: {
      maxDepth: intVar(env, "LIMIT_DEPTH", 10, 1, 1000),
      maxAliases: intVar(env, "LIMIT_ALIASES", 15, 0, 10000),
      maxTokens: intVar(env, "LIMIT_TOKENS", 1000, 10, 1_000_000),
      maxCharacters: intVar(env, "LIMIT_CHARACTERS", 15000, 100, 10_000_000),
      maxDirectives: intVar(env, "LIMIT_DIRECTIVES", 50, 0, 10000),
      maxCost: intVar(env, "LIMIT_COST", 5000, 1, 100_000_000),
      maxPageSize: intVar(env, "LIMIT_PAGE_SIZE", 100, 1, 10000),
      requestTimeoutMs: intVar(env, "REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
      maxBodyBytes: intVar(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 1024 * 1024 * 1024),
      introspection: env.INTROSPECTION ? env.INTROSPECTION === "true" : nodeEnv !== "production",
    },
    rateLimit: {
      intakeFields: env.RATE_LIMIT_INTAKE_FIELDS ? env.RATE_LIMIT_INTAKE_FIELDS.split(",").map((f) => f.trim()).filter(Boolean) : DEFAULT_INTAKE_FIELDS,
      // Tests send many operations from one address: relaxed defaults there; rate-limit tests set their own.
      intakeMax: intVar(env, "RATE_LIMIT_INTAKE_MAX", nodeEnv === "test" ? 100_000 : 30, 1, 1_000_000),
      intakeWindowSeconds: intVar(env, "RATE_LIMIT_INTAKE_WINDOW_SECONDS", 60, 1, 86400),
      operationsMax: intVar(env, "RATE_LIMIT_OPERATIONS_MAX", nodeEnv === "test" ? 1_000_000 : 600, 1, 10_000_000),
      operationsWindowSeconds: intVar(env, "RATE_LIMIT_OPERATIONS_WINDOW_SECONDS", 60, 1, 86400),
      keyPrefix: env.RATE_LIMIT_PREFIX || (nodeEnv === "test" ? `rl:test-${randomBytes(6).toString("hex")}:` : "rl:"),
    },
    websocket: {
      initTimeoutMs: intVar(env, "WS_INIT_TIMEOUT_MS", 10_000, 10, 600_000),
      maxSubscriptions: intVar(env, "WS_MAX_SUBSCRIPTIONS", 50, 1, 100_000),
      // How long a frame may wait to share a write with the next ones under load (src/http/ws-frames.ts).
      maxCoalesceMs: intVar(env, "WS_MAX_COALESCE_MS", 25, 0, 1_000),
    },
    transports: {
      smtpUrl: urlVar(env, "SMTP_URL", ["smtp:", "smtps:"]),
      smtpFromDomain: env.SMTP_FROM_DOMAIN || "inbox.local",
      metaAppSecret: env.META_APP_SECRET || undefined,
      metaVerifyToken: env.META_VERIFY_TOKEN || undefined,
      graphApiBaseUrl: (urlVar(env, "GRAPH_API_BASE_URL", ["http:", "https:"]) ?? "https://graph.facebook.com/v19.0").replace(/\/+$/, ""),
      metaAccessToken: env.META_ACCESS_TOKEN || undefined,
      maxAttachmentBytes: intVar(env, "MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      maxEmailBytes: intVar(env, "MAX_EMAIL_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      publicUrl: urlVar(env, "PUBLIC_URL", ["http:", "https:"])?.replace(/\/+$/, ""),
      email: emailVars(env, nodeEnv),
    },
    outbound: { allowPrivate: allowPrivateVar(env), requireHttps: nodeEnv === "production" },
    cors: { origins: originsVar(env) },
  };
}
