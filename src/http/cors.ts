import type { IncomingMessage, ServerResponse } from "node:http";
import type { Plugin } from "graphql-yoga";
import type { Config } from "../config.js";
import { bearerToken } from "../context.js";
import { CSRF_HEADERS } from "./csrf.js";

/**
 * Which browser pages may call this server, in one place for /graphql (Yoga) and the routes beside
 * it (POST /attachments).
 *
 * - "credentials": the page's origin is trusted (listed in CORS_ORIGINS, or this server's own):
 *   its origin is echoed with `access-control-allow-credentials: true`, and agent and partner
 *   tokens are honoured.
 * - "public": the public visitor API (/graphql for chat visitors, forms, anonymous callers) answers
 *   the page (`access-control-allow-origin: *`, never credentials), but an agent or partner token
 *   sent from it is refused with 403: a page on an unlisted origin cannot act as an agent even
 *   with a token it got hold of.
 * - "refuse": no CORS headers at all (the browser blocks the call), and 403 for a token.
 *
 * Requests without an Origin header (servers, mobile apps, curl) are not browsers' cross-origin
 * calls and are never affected.
 */
export type CorsDecision = "credentials" | "public" | "refuse";

/** What a decision may look at besides the origin. */
export interface CorsRequest {
  /** The request path ("/graphql", "/attachments"). */
  path: string;
  /** The Host header (lower case), to recognise this server's own pages. */
  host: string | null;
}

/**
 * The allowlist: how a page at `origin` may call `request`. Further sources of trusted origins
 * (a chat widget's sites) belong in this function, so both /graphql and the routes see them.
 */
export type CorsPolicy = (origin: string, request: CorsRequest) => CorsDecision;

/** Whether `origin` matches an entry of CORS_ORIGINS (`https://app.example.com`, `https://*.example.com`). */
function listed(origin: string, entries: string[]): boolean {
  return entries.some((entry) => {
    if (entry === origin) return true;
    const star = entry.indexOf("://*.");
    if (star < 0) return false;
    const [scheme, suffix] = [entry.slice(0, star + 3), entry.slice(star + 4)];
    return origin.startsWith(scheme) && origin.endsWith(suffix) && origin.length > scheme.length + suffix.length;
  });
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** The server's policy: its own origin and CORS_ORIGINS get credentials; anyone else only the public /graphql. */
export function createCorsPolicy(config: Pick<Config, "cors" | "transports">): CorsPolicy {
  const publicOrigin = config.transports.publicUrl ? new URL(config.transports.publicUrl).origin : null;
  return (origin, request) => {
    const normalized = origin.toLowerCase();
    const own = normalized === publicOrigin || (request.host !== null && originHost(normalized) === request.host);
    if (own || listed(normalized, config.cors.origins)) return "credentials";
    return request.path === "/graphql" ? "public" : "refuse";
  };
}

const policies = new WeakMap<object, CorsPolicy>();
/** The policy of a server configuration (one per configuration object). */
export function corsPolicyFor(config: Pick<Config, "cors" | "transports">): CorsPolicy {
  let policy = policies.get(config);
  if (!policy) policies.set(config, (policy = createCorsPolicy(config)));
  return policy;
}

/**
 * Whether the request presents a token that acts for an account or a partner (agent or partner;
 * tokens without `typ` are agent tokens, as in src/auth.ts). Read without verifying the
 * signature: it only ever causes a refusal, and a real request is verified later anyway.
 */
export function presentsAgentOrPartnerToken(authorization: string | null | undefined): boolean {
  const token = bearerToken(authorization);
  const payload = token?.split(".")[1];
  if (!payload) return false;
  try {
    const typ = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { typ?: unknown }).typ;
    return typ === undefined || typ === "agent" || typ === "partner";
  } catch {
    return false;
  }
}

const PUBLIC_HEADERS = ["authorization", "content-type", "accept", "x-request-id", ...CSRF_HEADERS];
const EXPOSED_HEADERS = "retry-after, x-request-id";

/**
 * The CORS response headers of a decision. A preflight of a trusted origin may ask for any
 * request headers (they are echoed); the public answer allows a fixed list.
 */
export function corsHeaders(decision: CorsDecision, origin: string, preflight: { methods: string; requestHeaders: string | null; publicHeaders?: string[] } | null): Record<string, string> {
  if (decision === "refuse") return { vary: "Origin" };
  const headers: Record<string, string> =
    decision === "credentials"
      ? { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "Origin" }
      : { "access-control-allow-origin": "*", vary: "Origin" };
  if (!preflight) return { ...headers, "access-control-expose-headers": EXPOSED_HEADERS };
  const allowed = decision === "credentials" && preflight.requestHeaders ? preflight.requestHeaders : (preflight.publicHeaders ?? PUBLIC_HEADERS).join(", ");
  return { ...headers, "access-control-allow-methods": preflight.methods, "access-control-allow-headers": allowed, "access-control-max-age": "600" };
}

const refusal = (what: string) =>
  `A page on this origin may not use ${what} tokens here: the server's operator lists trusted origins in CORS_ORIGINS`;

/** /graphql: answers preflights, refuses agent and partner tokens from untrusted pages, adds the CORS headers. */
export function useCors(policy: CorsPolicy): Plugin {
  const decisions = new WeakMap<Request, { decision: CorsDecision; origin: string }>();
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const origin = request.headers.get("origin");
      if (!origin) return;
      const decision = policy(origin, { path: url.pathname, host: request.headers.get("host")?.toLowerCase() ?? null });
      decisions.set(request, { decision, origin });
      if (request.method === "OPTIONS") {
        const preflight = { methods: "GET, POST", requestHeaders: request.headers.get("access-control-request-headers") };
        return endResponse(new fetchAPI.Response(null, { status: decision === "refuse" ? 403 : 204, headers: { "content-length": "0", ...corsHeaders(decision, origin, preflight) } }));
      }
      if (decision !== "credentials" && presentsAgentOrPartnerToken(request.headers.get("authorization"))) {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: refusal("agent or partner"), extensions: { code: "FORBIDDEN_ORIGIN" } }] }), {
            status: 403,
            headers: { "content-type": "application/json; charset=utf-8" },
          }),
        );
      }
    },
    onResponse({ request, response }) {
      const seen = decisions.get(request);
      if (!seen || request.method === "OPTIONS") return;
      for (const [name, value] of Object.entries(corsHeaders(seen.decision, seen.origin, null))) response.headers.set(name, value);
    },
  };
}

/**
 * The same rules for a node:http route that only agents call (POST /attachments). Returns true
 * when the route should go on; otherwise the preflight or refusal has been answered.
 */
export function corsForAgentRoute(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy, preflight: { methods: string; headers: string[] }): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  const decision = policy(origin, { path: (req.url ?? "/").split("?")[0], host: req.headers.host?.toLowerCase() ?? null });
  if (req.method === "OPTIONS") {
    const headers = corsHeaders(decision, origin, { methods: preflight.methods, requestHeaders: req.headers["access-control-request-headers"] ?? null, publicHeaders: preflight.headers });
    res.writeHead(decision === "refuse" ? 403 : 204, { ...headers, "content-length": "0" });
    res.end();
    return false;
  }
  for (const [name, value] of Object.entries(corsHeaders(decision, origin, null))) res.setHeader(name, value);
  if (decision !== "credentials") {
    res.writeHead(403, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ error: "origin_not_allowed", reason: refusal("agent") }));
    return false;
  }
  return true;
}
