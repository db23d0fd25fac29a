import type http from "node:http";
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";
import { closeAfterFlush, queueFrame, textFrame, textFrameAround, unsentBytes } from "./ws-frames.js";
import type { Logger } from "../log.js";
import { metrics } from "../metrics.js";

/** Bytes a client may leave unread before it is disconnected (it reconnects and resumes with `after`). */
export const WS_MAX_BUFFERED = 8 * 1024 * 1024;
/** Ping interval; a client that does not answer one within the next interval is dropped. */
const KEEP_ALIVE_MS = 12_000;
/** RFC 6455 close code 1013 "Try Again Later". */
const TRY_AGAIN_LATER = 1013;

type Extra = { socket: WebSocket; request: http.IncomingMessage };

/** JSON of a subscription result, encoded once per result object: a shared result goes to many sockets. */
const payloadBytes = new WeakMap<object, Buffer>();
function bytesOf(payload: object): Buffer {
  let bytes = payloadBytes.get(payload);
  if (bytes === undefined) payloadBytes.set(payload, (bytes = Buffer.from(JSON.stringify(payload))));
  return bytes;
}

/** True when the socket takes frames; a client with too much unsent is disconnected instead. */
function canSend(socket: WebSocket): boolean {
  if (socket.readyState !== socket.OPEN) return false;
  if (unsentBytes(socket) <= WS_MAX_BUFFERED) return true;
  closeAfterFlush(socket, TRY_AGAIN_LATER, "Client too slow: reconnect and resume with `after`");
  return false;
}

/** Sends one protocol frame (see src/http/ws-frames.ts for how frames are written). */
function sendFrame(socket: WebSocket, data: string) {
  if (canSend(socket)) queueFrame(socket, textFrame(data));
}

/** The start of every `next` frame of operation `id`, encoded once per operation (see sendNext). */
export function nextFramePrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

/**
 * Sends a subscription result as the operation's `next` frame (`prefix` from nextFramePrefix),
 * outside graphql-ws's own loop (see `deliverTo` in src/realtime/shared-execution.ts); the
 * payload is encoded once for all sockets.
 */
export function sendNext(socket: WebSocket, prefix: Buffer, payload: object) {
  if (canSend(socket)) queueFrame(socket, textFrameAround(prefix, bytesOf(payload), "}"));
}

/**
 * graphql-ws's protocol on a `ws` server: the same as graphql-ws's own `useServer`, except that
 * frames are written by us and share writes (src/http/ws-frames.ts),
 * and a client that stops reading is disconnected instead of buffering without bound.
 */
export function serveGraphQLOverWebSocket<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, E & Extra>,
  wss: WebSocketServer,
  log: Pick<Logger, "error">,
) {
  const server = makeServer<P, E & Extra>(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on("error", (err) => log.error({ err }, "websocket server error"));
  wss.on("connection", (socket, request) => {
    metrics.wsConnections.inc();
    metrics.wsConnectionsOpened.inc();
    // Protocol errors (oversized or malformed frames) are closed by ws itself with their code.
    socket.on("error", () => {});
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, KEEP_ALIVE_MS);
    socket.on("pong", () => (alive = true));
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (frame) => sendFrame(socket, frame),
        close: (code, reason) => closeAfterFlush(socket, code, reason),
        onMessage: (cb) =>
          socket.on("message", async (message) => {
            try {
              await cb(String(message));
            } catch (err) {
              log.error({ err }, "websocket message handling failed");
              closeAfterFlush(socket, CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request } as E & Extra,
    );
    socket.once("close", (code, reason) => {
      metrics.wsConnections.dec();
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose() {
      for (const client of wss.clients) closeAfterFlush(client, 1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
