import type { TransportHandler } from "../transports.js";
import { sendJson } from "../read-body.js";
import { openAttachmentFile, verifyDownload } from "../../services/attachments-store.js";

/**
 * GET /attachments/<attachment id>?expires=…&signature=… serves a stored attachment to whoever
 * holds a valid signed URL (the `Attachment.downloadUrl` field hands them out to agents who can see
 * the message). Expired or forged URLs get 403; an unknown attachment or a missing file 404.
 */
export const handleAttachmentDownload: TransportHandler = async (req, res, { services, url }) => {
  if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method_not_allowed" }, { allow: "GET, HEAD" });
  // A malformed escape ("/attachments/%") is a URIError, answered 400 by src/http/transports.ts.
  const id = decodeURIComponent(url.pathname.slice("/attachments/".length));
  // Attachment ids are UUIDs: anything else names no attachment (before the signature is checked).
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return sendJson(res, 404, { error: "not_found" });
  if (!(await verifyDownload(services.config, id, url.searchParams.get("expires"), url.searchParams.get("signature")))) {
    return sendJson(res, 403, { error: "invalid_or_expired_signature" });
  }
  // An original email (Message.originalEmail) is served like an attachment under its own id.
  const attachment =
    (await services.prisma.attachment.findUnique({ where: { id } })) ??
    (await services.prisma.emailOriginal.findUnique({ where: { id } }).then((o) => o && { storageKey: o.storageKey, name: "original-email.eml", mimeType: "message/rfc822" }));
  const file = attachment?.storageKey ? await openAttachmentFile(services.config, attachment.storageKey) : null;
  if (!attachment || !file) return sendJson(res, 404, { error: "not_found" });
  const name = (attachment.name ?? "attachment").replace(/[\r\n"]/g, "_");
  res.writeHead(200, {
    // Never rendered inline: a customer's HTML file must not run on this origin.
    "content-type": attachment.mimeType && /^[\w.+-]+\/[\w.+-]+$/.test(attachment.mimeType) ? attachment.mimeType : "application/octet-stream",
    "content-length": String(file.size),
    "content-disposition": `attachment; filename="${name.replace(/[^\x20-\x7e]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    "x-content-type-options": "nosniff",
    "cache-control": "private, no-store",
  });
  if (req.method === "HEAD") {
    file.stream.destroy();
    res.end();
    return;
  }
  file.stream.pipe(res);
  await new Promise<void>((resolve) => {
    res.on("close", resolve);
    file.stream.on("error", () => res.destroy());
  });
};
