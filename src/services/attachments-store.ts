import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.js";
import type { PrismaClient } from "../generated/prisma/client.js";

/**
 * Files of attachments (inbound email attachments, agents' uploads), kept under
 * DATA_DIR/attachments/<account id>/<uuid>, and the short-lived signed URLs that serve them. A URL carries the attachment id, an expiry (unix
 * seconds) and an HMAC-SHA256 over both: anyone holding it may download the file until it
 * expires, nobody can forge or extend one without the server's key.
 */

/** How long a download URL stays valid. */
export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;

const root = (config: Pick<Config, "dataDir">) => path.join(config.dataDir, "attachments");

/** The file path of a storage key, refusing keys that would leave the attachments folder. */
export function attachmentPath(config: Pick<Config, "dataDir">, storageKey: string): string {
  if (!/^[0-9a-f-]{36}\/[0-9a-f-]{36}$/.test(storageKey)) throw new Error(`Invalid storage key "${storageKey}"`);
  return path.join(root(config), storageKey);
}

/** Writes one file for an account; returns its storage key (kept on Attachment.storageKey). */
export async function saveAttachmentFile(config: Pick<Config, "dataDir">, accountId: string, content: Buffer): Promise<string> {
  const storageKey = `${accountId}/${randomUUID()}`;
  const file = attachmentPath(config, storageKey);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
  return storageKey;
}

/** Removes files written for a message that was not stored after all (refused or duplicate). */
export async function removeAttachmentFiles(config: Pick<Config, "dataDir">, storageKeys: string[]): Promise<void> {
  await Promise.all(storageKeys.map((key) => rm(attachmentPath(config, key), { force: true })));
}

/** How long a stored file may exist without an attachment row naming it: an upload's life, and an hour more. */
export const UNUSED_FILE_GRACE_MS = (24 + 1) * 60 * 60 * 1000;

const UUID = /^[0-9a-f-]{36}$/;

/**
 * Removes files that no attachment row names and that are older than `olderThanMs`: uploads no
 * reply used before their token expired, or files left by a crash between writing a file and
 * committing its message. Returns how many were removed. The age keeps files whose row is still
 * being written (an inbound email, a reply) out of reach.
 */
export async function removeUnusedFiles(prisma: PrismaClient, config: Pick<Config, "dataDir">, olderThanMs = UNUSED_FILE_GRACE_MS, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const accountId of (await readdir(root(config)).catch(() => [])).filter((n) => UUID.test(n))) {
    const old: string[] = [];
    for (const name of (await readdir(path.join(root(config), accountId)).catch(() => [])).filter((n) => UUID.test(n))) {
      const info = await stat(path.join(root(config), accountId, name)).catch(() => null);
      if (info?.isFile() && now - info.mtimeMs > olderThanMs) old.push(`${accountId}/${name}`);
    }
    for (let i = 0; i < old.length; i += 500) {
      const batch = old.slice(i, i + 500);
      const used = await prisma.attachment.findMany({ where: { accountId, storageKey: { in: batch } }, select: { storageKey: true } });
      const originals = await prisma.emailOriginal.findMany({ where: { accountId, storageKey: { in: batch } }, select: { storageKey: true } });
      const named = new Set([...used, ...originals].map((a) => a.storageKey));
      const unused = batch.filter((key) => !named.has(key));
      await removeAttachmentFiles(config, unused);
      removed += unused.length;
    }
  }
  return removed;
}

/** A stored file's size and read stream, or null when it is gone. */
export async function openAttachmentFile(config: Pick<Config, "dataDir">, storageKey: string) {
  const file = attachmentPath(config, storageKey);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return null;
  return { size: info.size, stream: createReadStream(file) };
}

const keys = new Map<string, Promise<Buffer>>();

/**
 * The URL-signing key: derived from JWT_SECRET when there is one (so every server of a
 * deployment agrees), else generated once into DATA_DIR/attachment-url-key.
 */
function signingKey(config: Pick<Config, "dataDir" | "jwt">): Promise<Buffer> {
  const id = config.jwt.secret ? `secret:${config.jwt.secret}` : `dir:${config.dataDir}`;
  let key = keys.get(id);
  if (!key) {
    key = config.jwt.secret
      ? Promise.resolve(createHmac("sha256", config.jwt.secret).update("attachment-download-urls").digest())
      : loadOrCreateKey(path.join(config.dataDir, "attachment-url-key"));
    keys.set(id, key);
  }
  return key;
}

async function loadOrCreateKey(file: string): Promise<Buffer> {
  const existing = await readFile(file, "utf8").catch(() => null);
  if (existing?.trim()) return Buffer.from(existing.trim(), "hex");
  const key = randomBytes(32);
  await mkdir(path.dirname(file), { recursive: true });
  // wx: a concurrent first use keeps the file that won.
  await writeFile(file, key.toString("hex"), { mode: 0o600, flag: "wx" }).catch(async () => undefined);
  return Buffer.from((await readFile(file, "utf8")).trim(), "hex");
}

async function sign(config: Pick<Config, "dataDir" | "jwt">, attachmentId: string, expires: number): Promise<string> {
  return createHmac("sha256", await signingKey(config)).update(`${attachmentId}.${expires}`).digest("base64url");
}

/**
 * A download URL for a stored attachment, valid for `ttlSeconds`: absolute under PUBLIC_URL when
 * it is set, else the path `/attachments/<id>?expires=…&signature=…` on this server.
 */
export async function signedDownloadUrl(config: Pick<Config, "dataDir" | "jwt" | "transports">, attachmentId: string, ttlSeconds = DOWNLOAD_URL_TTL_SECONDS, now = Date.now()): Promise<string> {
  const expires = Math.floor(now / 1000) + ttlSeconds;
  const signature = await sign(config, attachmentId, expires);
  return `${config.transports.publicUrl ?? ""}/attachments/${encodeURIComponent(attachmentId)}?expires=${expires}&signature=${signature}`;
}

/** Whether a download URL's expiry and signature are valid for this attachment id (constant-time comparison). */
export async function verifyDownload(config: Pick<Config, "dataDir" | "jwt">, attachmentId: string, expires: string | null, signature: string | null, now = Date.now()): Promise<boolean> {
  if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
  if (Number(expires) * 1000 < now) return false;
  const expected = Buffer.from(await sign(config, attachmentId, Number(expires)));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** How long an upload token stays usable in a reply. */
export const UPLOAD_TTL_SECONDS = 24 * 60 * 60;

/** A file an agent uploaded (POST /attachments), not yet attached to a message. */
export interface Upload {
  accountId: string;
  storageKey: string;
  name: string;
  mimeType: string;
  size: number;
  /** Unix seconds. */
  expires: number;
}

const UPLOAD_PREFIX = "up1";
// The download-URL key signs uploads too; the "upload:" prefix keeps the two kinds of signature
// apart (a download signature covers "<uuid>.<expires>", which never starts with it).
const signUploadBody = async (config: Pick<Config, "dataDir" | "jwt">, body: string) =>
  createHmac("sha256", await signingKey(config)).update(`upload:${body}`).digest("base64url");

/**
 * The token handed back for an uploaded file: `up1.<base64url JSON {a, k, n, m, s, e}>.<base64url
 * HMAC-SHA256>` (account id, storage key, name, MIME type, size, expiry in unix seconds). It is
 * self-describing, so no row exists until a reply uses it; it may be used by several replies
 * until it expires.
 */
export async function signUpload(config: Pick<Config, "dataDir" | "jwt">, upload: Omit<Upload, "expires">, ttlSeconds = UPLOAD_TTL_SECONDS, now = Date.now()): Promise<string> {
  const claims = { a: upload.accountId, k: upload.storageKey, n: upload.name, m: upload.mimeType, s: upload.size, e: Math.floor(now / 1000) + ttlSeconds };
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${UPLOAD_PREFIX}.${body}.${await signUploadBody(config, body)}`;
}

/**
 * Reads an upload token for `accountId`. `invalid`: malformed, forged or altered, or another
 * account's (told apart from nothing else, like a foreign id); `expired`: past its expiry;
 * `missing`: valid, but its file is no longer stored.
 */
export async function readUpload(
  config: Pick<Config, "dataDir" | "jwt">,
  token: string,
  accountId: string,
  now = Date.now(),
): Promise<{ ok: true; upload: Upload } | { ok: false; reason: "invalid" | "expired" | "missing" }> {
  const [prefix, body, signature, ...rest] = token.split(".");
  if (prefix !== UPLOAD_PREFIX || !body || !signature || rest.length) return { ok: false, reason: "invalid" };
  const expected = Buffer.from(await signUploadBody(config, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "invalid" };
  let claims: { a?: unknown; k?: unknown; n?: unknown; m?: unknown; s?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  const { a, k, n, m, s, e } = claims;
  if (typeof a !== "string" || typeof k !== "string" || typeof n !== "string" || typeof m !== "string" || typeof s !== "number" || typeof e !== "number") return { ok: false, reason: "invalid" };
  if (a !== accountId || !k.startsWith(`${accountId}/`)) return { ok: false, reason: "invalid" };
  if (e * 1000 < now) return { ok: false, reason: "expired" };
  const info = await Promise.resolve(k).then((key) => stat(attachmentPath(config, key))).catch(() => null);
  if (!info?.isFile()) return { ok: false, reason: "missing" };
  return { ok: true, upload: { accountId: a, storageKey: k, name: n, mimeType: m, size: s, expires: e } };
}
