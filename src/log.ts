import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** LOG_LEVEL values, quietest first. */
export const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Keys whose values never reach a log line, wherever a caller put them (one or two levels deep):
 * credentials of agents, partners, visitors, webhooks and the mail and Meta transports.
 */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "set-cookie",
  "token",
  "accessToken",
  "refreshToken",
  "password",
  "secret",
  "webhookSecret",
  "signingSecret",
  "appSecret",
  "verifyToken",
  "apiKey",
  "x-hub-signature-256",
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const child = key.startsWith("[") ? key : `.${key}`;
  return [key, `*${child}`, `*.*${child}`];
});

/**
 * What a token looks like inside free text (an error message, a URL, a stack): a JWT (three
 * base64url parts, the first a JSON header), an HTTP credential after its scheme, or a token or
 * secret in a query string. Replaced before the line is written.
 */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, "[redacted jwt]"],
  [/\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/gi, "$1 [redacted]"],
  [/([?&](?:token|access_token|secret|hub\.verify_token|password)=)[^&\s"']+/gi, "$1[redacted]"],
];

/** The text with anything token-like replaced (see SECRET_PATTERNS). */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (!value || typeof value !== "object" || depth > 4 || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * A JSON-lines logger (pino): one object per line with `level` as a word, an ISO `time`, `msg`,
 * and the fields given. Secrets never reach the output: known keys are redacted (REDACT_PATHS),
 * and strings (messages, error stacks, fields) have token-like text replaced (scrubSecrets).
 */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: "inbox-server" },
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubDeep(object) as Record<string, unknown>,
      },
      serializers: { err: (err: Error) => scrubDeep(stdSerializers.err(err)) },
      hooks: {
        logMethod(args, method) {
          // Scrubs the message (and printf-style arguments); objects go through formatters.log.
          const scrubbed = args.map((a) => (typeof a === "string" ? scrubSecrets(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    opts.destination,
  );
}

/** LOG_LEVEL, else info (silent under NODE_ENV=test), for code that runs before or beside a server. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.LOG_LEVEL as LogLevel | undefined;
  if (level && LOG_LEVELS.includes(level)) return level;
  return env.NODE_ENV === "test" ? "silent" : "info";
}

let processLogger: Logger | undefined;

/**
 * The process's logger, for the few places with no server at hand (the real-time hub, Redis
 * connection errors, the start script). A server logs through its own (`services.logger`).
 */
export function getProcessLogger(): Logger {
  return (processLogger ??= createLogger({ level: levelFromEnv() }));
}

/** A line-only sink (`(msg) => void`) over a logger, for modules that report progress lines. */
export function lineLog(logger: Logger, component: string): (msg: string) => void {
  const child = logger.child({ component });
  return (msg) => child.info(msg);
}
