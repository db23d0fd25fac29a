import type { TransportHandler } from "../transports.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { bearerToken } from "../../context.js";
import { fromGlobalId } from "../../schema/ids.js";
import { toGlobalId } from "../../schema/ids.js";
import { authenticateCallChannel, callEventSchema, recordCallEvent } from "../../services/calls.js";
import { refuseUnstorable } from "../../schema/storable-text-plugin.js";
import { ChannelOffError, NotFoundError, ValidationError } from "../../services/errors.js";

/** Largest call event accepted (a transcript included). */
export const MAX_CALL_EVENT_BYTES = 256 * 1024;

/** The channel id in the path: a Channel global id or a raw id. */
function channelIdFrom(segment: string): string {
  if (/^[0-9a-f-]{36}$/i.test(segment)) return segment;
  try {
    return fromGlobalId(segment, "Channel");
  } catch {
    return "";
  }
}

/** The first string or key PostgreSQL cannot store in a JSON body, with its path; null if none. */
function unstorableField(json: unknown): { path: string[]; message: string } | null {
  if (!json || typeof json !== "object") return null;
  try {
    refuseUnstorable(json);
    return null;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.fieldErrors[0];
  }
}

/**
 * POST /inbound/calls/<channel id>: a telephony provider reports a call event, authenticated with
 * `Authorization: Bearer <channel inbound secret>` (see rotateChannelInboundSecret).
 * 401 unknown channel or wrong secret, 413 body over 256 KiB, 400 malformed JSON or fields (a
 * NUL or unpaired surrogate in any string included, naming the field),
 * 404 a RECORDING/TRANSCRIPT event without from/to for an unknown call, 409 channel OFF;
 * 200 { messageId, conversationId, created } otherwise. Nothing is stored on refusal.
 */
export const handleCallEvent: TransportHandler = async (req, res, { services, url }) => {
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" }, { allow: "POST" });
  const segment = decodeURIComponent(url.pathname.slice("/inbound/calls/".length).replace(/\/+$/, ""));
  const channel = await authenticateCallChannel(services.prisma, channelIdFrom(segment), bearerToken(req.headers.authorization));
  if (!channel) {
    req.resume();
    return sendJson(res, 401, { error: "unauthorized", message: "Unknown channel or wrong secret" }, { "www-authenticate": "Bearer", connection: "close" });
  }
  const body = await readBodyOr413(req, res, MAX_CALL_EVENT_BYTES);
  if (!body) return;
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return sendJson(res, 400, { error: "malformed_json" });
  }
  // A provider's program wrote this body: text PostgreSQL cannot store (NUL, an unpaired
  // surrogate) is refused naming the field, as a wrong type is, rather than altered (a callId is an id).
  const unstorable = unstorableField(json);
  if (unstorable) return sendJson(res, 400, { error: "invalid_event", fields: [unstorable] });
  const parsed = callEventSchema.safeParse(json);
  if (!parsed.success) {
    return sendJson(res, 400, { error: "invalid_event", fields: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
  }
  try {
    const { message, created } = await recordCallEvent(services.prisma, channel, parsed.data);
    sendJson(res, 200, { messageId: toGlobalId("Message", message.id), conversationId: toGlobalId("Conversation", message.conversationId), created });
  } catch (err) {
    if (err instanceof ChannelOffError) return sendJson(res, 409, { error: "channel_off", message: err.message });
    // A RECORDING or TRANSCRIPT event (without from/to) of a call this channel never saw.
    if (err instanceof NotFoundError) return sendJson(res, 404, { error: "unknown_call", message: "No call with this callId on this channel: send from and to with the event" });
    throw err;
  }
};
