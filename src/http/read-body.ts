import type { IncomingMessage, ServerResponse } from "node:http";

/** The body is larger than the endpoint accepts: answer 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body larger than ${limit} bytes`);
  }
}

/**
 * Reads a request body into memory, refusing it once it passes `maxBytes`: a declared
 * Content-Length over the limit is refused before a byte is read, and a body streamed without one
 * is cut off as soon as it grows past the limit (so no caller can make the server buffer more).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Writes a small JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers 413 for an oversized body. The rest of the upload is not read: the connection is closed
 * after the answer so the client stops sending.
 */
export function sendTooLarge(res: ServerResponse, err: BodyTooLargeError) {
  sendJson(res, 413, { error: "payload_too_large", limit: err.limit }, { connection: "close" });
}

/**
 * readBody for a route: the body, or undefined once an oversized one has been answered with 413
 * (the route then just returns). Other failures are thrown.
 */
export async function readBodyOr413(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | undefined> {
  try {
    return await readBody(req, maxBytes);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    sendTooLarge(res, err);
    return undefined;
  }
}
