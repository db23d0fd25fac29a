import type http from "node:http";
import type { Services } from "../../context.js";
import { createContext } from "../../context.js";
import type { RateLimitPlugins } from "../rate-limit.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { saveAttachmentFile, signUpload } from "../../services/attachments-store.js";

/**
 * POST /widget/uploads: a chat visitor (`Authorization: Bearer <visitor token>`) uploads one file
 * (the raw body, its MIME type as content-type, its name in `x-filename`), to attach it with
 * sendVisitorMessage's `attachments`. Answers 201 `{ upload, name, mimeType, size }` like the
 * agents' POST /attachments. Any site's page may call it (no credentials; the token is the only
 * authority): `access-control-allow-origin: *`. 401 without a visitor token, 429 past the
 * visitor's operations budget, 413 over MAX_ATTACHMENT_BYTES, 400 for an empty body.
 */

const CORS = { "access-control-allow-origin": "*", "access-control-expose-headers": "retry-after, x-request-id" };

function fileName(header: string | string[] | undefined): string {
  let raw = (Array.isArray(header) ? header[0] : header) ?? "";
  try {
    raw = decodeURIComponent(raw);
  } catch {
    // not percent-encoded: keep it as sent
  }
  return raw.replace(/[\x00-\x1f\x7f]/g, "").split(/[\\/]/).pop()!.trim().slice(0, 255) || "attachment";
}

function mimeType(header: string | undefined): string {
  const type = (header ?? "").split(";")[0].trim().toLowerCase();
  return /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : "application/octet-stream";
}

export async function handleVisitorUpload(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  deps: { services: Services; rateLimits?: Pick<RateLimitPlugins, "spend">; requestId: string },
): Promise<void> {
  if (req.method === "OPTIONS") {
    res.writeHead(204, { ...CORS, "access-control-allow-methods": "POST", "access-control-allow-headers": "authorization, content-type, x-filename", "access-control-max-age": "600", "content-length": "0" });
    return void res.end();
  }
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" }, { ...CORS, allow: "POST, OPTIONS" });
  const { services } = deps;
  const ctx = await createContext(services, { authorization: req.headers.authorization, requestId: deps.requestId });
  if (ctx.kind !== "visitor") {
    const reason = ctx.kind === "anonymous" ? (ctx.authError ?? "A visitor token is required (startChat)") : "Only chat visitors upload here";
    return sendJson(res, 401, { error: "unauthenticated", reason }, { ...CORS, "www-authenticate": "Bearer", connection: "close" });
  }
  const refused = await deps.rateLimits?.spend({ ...ctx, ip: req.socket.remoteAddress });
  if (refused) {
    return sendJson(res, 429, { error: "rate_limited", retryAfterSeconds: refused.retryAfterSeconds }, { ...CORS, "retry-after": String(refused.retryAfterSeconds), connection: "close" });
  }
  for (const [name, value] of Object.entries(CORS)) res.setHeader(name, value);
  const content = await readBodyOr413(req, res, services.config.transports.maxAttachmentBytes);
  if (!content) return;
  if (content.length === 0) return sendJson(res, 400, { error: "empty_body" });
  const upload = { accountId: ctx.accountId, name: fileName(req.headers["x-filename"]), mimeType: mimeType(req.headers["content-type"]), size: content.length };
  const storageKey = await saveAttachmentFile(services.config, ctx.accountId, content);
  const token = await signUpload(services.config, { ...upload, storageKey });
  sendJson(res, 201, { upload: token, name: upload.name, mimeType: upload.mimeType, size: upload.size });
}
