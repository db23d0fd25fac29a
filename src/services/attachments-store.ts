import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.js";

/**
 * Files of inbound attachments, kept under DATA_DIR/attachments/<account id>/<uuid>, and the
 * short-lived signed URLs that serve them. A URL carries the attachment id, an expiry (unix
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
