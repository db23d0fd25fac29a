import { createHmac, timingSafeEqual } from "node:crypto";

/** `sha256=<hex HMAC-SHA256(appSecret, body)>`, as Meta sends in X-Hub-Signature-256. */
export function signMetaBody(appSecret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;
}

/**
 * Checks Meta's X-Hub-Signature-256 header over the raw request body, in constant time.
 * "missing": no header (or no secret configured, which refuses everything); "invalid": mismatch.
 */
export function checkMetaSignature(appSecret: string | undefined, body: Buffer, header: string | string[] | undefined): "ok" | "missing" | "invalid" {
  if (!appSecret || typeof header !== "string" || !header) return "missing";
  const expected = Buffer.from(signMetaBody(appSecret, body));
  const given = Buffer.from(header.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected) ? "ok" : "invalid";
}
