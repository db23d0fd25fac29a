import type { TransportHandler } from "../transports.js";
import { createContext } from "../../context.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { saveAttachmentFile, signUpload } from "../../services/attachments-store.js";
import { corsForAgentRoute, corsPolicyFor } from "../cors.js";

/** The file's name from `x-filename` (raw or percent-encoded) or `?name=`: no path, no control characters. */
function fileName(header: string | string[] | undefined, query: string | null): string {
  let raw = (Array.isArray(header) ? header[0] : header) ?? query ?? "";
  try {
    raw = decodeURIComponent(raw);
  } catch {
    // not percent-encoded: keep it as sent
  }
  const name = raw.replace(/[\x00-\x1f\x7f]/g, "").split(/[\\/]/).pop()!.trim().slice(0, 255);
  return name || "attachment";
}

/** The body's MIME type without parameters; anything unparsable is application/octet-stream. */
function mimeType(header: string | undefined): string {
  const type = (header ?? "").split(";")[0].trim().toLowerCase();
  return /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : "application/octet-stream";
}

const ALLOWED_HEADERS = ["authorization", "content-type", "x-filename"];

/**
 * POST /attachments: an agent uploads one file (the raw body, its MIME type as content-type, its
 * name in `x-filename` or `?name=`) to attach it to replies. Answers 201 `{ upload, name,
 * mimeType, size }`, where `upload` is the token ReplyAttachmentInput.upload takes (24 hours). 401
 * without a valid agent token (checked before the body is read), 429 past the agent's operations
 * budget (RATE_LIMIT_OPERATIONS_MAX, shared with GraphQL), 413 over MAX_ATTACHMENT_BYTES and
 * 400 for an empty body; nothing is stored on a refusal.
 */
export const handleAttachmentUpload: TransportHandler = async (req, res, { services, url, requestId, rateLimits }) => {
  if (url.pathname !== "/attachments") return sendJson(res, 404, { error: "not_found" });
  // Browser pages may upload only from this server's own origin or one CORS_ORIGINS lists: the
  // preflight is answered there, and any other origin gets 403 before the token is read.
  if (!corsForAgentRoute(req, res, corsPolicyFor(services.config), { methods: "POST", headers: ALLOWED_HEADERS })) return;
  if (req.method === "OPTIONS") {
    res.writeHead(204, { allow: "POST, OPTIONS" });
    return void res.end();
  }
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" }, { allow: "POST" });
  // The same verification as /graphql (src/auth.ts through createContext).
  const ctx = await createContext(services, { authorization: req.headers.authorization, requestId });
  if (ctx.kind !== "agent") {
    const reason = ctx.kind === "anonymous" ? (ctx.authError ?? "A valid agent token is required") : "Only agents may upload files";
    return sendJson(res, 401, { error: "unauthenticated", reason }, { "www-authenticate": "Bearer", connection: "close" });
  }
  // An upload is an operation: it spends the agent's budget like a GraphQL request does.
  const refused = await rateLimits?.spend({ ...ctx, ip: req.socket.remoteAddress });
  if (refused) {
    const seconds = String(refused.retryAfterSeconds);
    return sendJson(res, 429, { error: "rate_limited", retryAfterSeconds: refused.retryAfterSeconds }, { "retry-after": seconds, connection: "close" });
  }
  const content = await readBodyOr413(req, res, services.config.transports.maxAttachmentBytes);
  if (!content) return;
  if (content.length === 0) return sendJson(res, 400, { error: "empty_body" });
  const upload = { accountId: ctx.accountId, name: fileName(req.headers["x-filename"], url.searchParams.get("name")), mimeType: mimeType(req.headers["content-type"]), size: content.length };
  const storageKey = await saveAttachmentFile(services.config, ctx.accountId, content);
  const token = await signUpload(services.config, { ...upload, storageKey });
  sendJson(res, 201, { upload: token, name: upload.name, mimeType: upload.mimeType, size: upload.size });
};
