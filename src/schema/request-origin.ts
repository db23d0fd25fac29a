import type { IncomingMessage } from "node:http";
import type { Context } from "../context.js";

/**
 * What the request a field runs in tells about where it came from. Yoga's context carries the
 * Fetch `request` (HTTP, SSE); a WebSocket operation's carries the upgrade request as `req`.
 */
type Transport = { request?: Request; req?: IncomingMessage };

/** The Origin header of the page that sent the request (HTTP or WebSocket upgrade); null when none. */
export function requestOrigin(ctx: Context): string | null {
  const { request, req } = ctx as Context & Transport;
  const origin = request?.headers.get("origin") ?? (typeof req?.headers.origin === "string" ? req.headers.origin : null);
  return origin || null;
}

/** This server's public base URL: PUBLIC_URL when set, else the origin the request was addressed to. */
export function serverBaseUrl(ctx: Context): string {
  if (ctx.config.transports.publicUrl) return ctx.config.transports.publicUrl;
  const { request, req } = ctx as Context & Transport;
  if (request) return new URL(request.url).origin;
  const host = req?.headers.host;
  return host ? `http://${host}` : `http://localhost:${ctx.config.port}`;
}
