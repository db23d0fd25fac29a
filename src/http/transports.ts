import type { IncomingMessage, ServerResponse } from "node:http";
import type { Services } from "../context.js";
import { handleCallEvent } from "./routes/calls.js";
import { handleInboundEmail } from "./routes/email.js";
import { handleMessengerRoute, handleWhatsAppRoute } from "./routes/meta.js";
import { handleAttachmentDownload } from "./routes/attachments.js";
import { handleAttachmentUpload } from "./routes/uploads.js";
import type { RateLimitPlugins } from "./rate-limit.js";

/** Handles one HTTP request of a built-in channel transport (webhooks, inbound email, files). */
export type TransportHandler = (req: IncomingMessage, res: ServerResponse, ctx: TransportContext) => Promise<void>;

export interface TransportContext {
  services: Services;
  url: URL;
  requestId: string;
  /** The caller's operations budget (the same as GraphQL's), for routes that act for an agent. */
  rateLimits?: Pick<RateLimitPlugins, "spend">;
}

/**
 * The transport endpoints beside /graphql, by path prefix. Each transport module appends its own
 * line here (and its import above); nothing else routes these paths.
 */
const routes: Array<[prefix: string, handler: TransportHandler]> = [
  ["/inbound/calls/", handleCallEvent],
  ["/inbound/email/", handleInboundEmail],
  ["/webhooks/messenger", handleMessengerRoute],
  ["/webhooks/whatsapp", handleWhatsAppRoute],
  ["/attachments/", handleAttachmentDownload],
  ["/attachments", handleAttachmentUpload], // exactly POST /attachments: after the download prefix
];

/** Answers the request when its path belongs to a transport; false lets the caller go on. */
export async function handleTransportRequest(
  req: IncomingMessage,
  res: ServerResponse,
  services: Services,
  requestId: string,
  rateLimits?: Pick<RateLimitPlugins, "spend">,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const route = routes.find(([prefix]) => url.pathname.startsWith(prefix));
  if (!route) return false;
  try {
    await route[1](req, res, { services, url, requestId, rateLimits });
  } catch (err) {
    // The routes decode their path segment with decodeURIComponent: a malformed escape ("%", "%E0%A4%A") is the client's.
    if (err instanceof URIError && !res.headersSent) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "malformed_url", requestId }));
      return true;
    }
    services.logger.error({ component: "transport", route: route[0], requestId, err }, "transport request failed");
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal", requestId }));
    } else res.destroy();
  }
  return true;
}
