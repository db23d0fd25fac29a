import type http from "node:http";
import type { Socket } from "node:net";
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";

/** Bytes a client may leave unread before it is disconnected (it reconnects and resumes with `after`). */
export const WS_MAX_BUFFERED = 8 * 1024 * 1024;
/** Ping interval; a client that does not answer one within the next interval is dropped. */
const KEEP_ALIVE_MS = 12_000;
/** RFC 6455 close code 1013 "Try Again Later". */
const TRY_AGAIN_LATER = 1013;

type Extra = { socket: WebSocket; request: http.IncomingMessage };

/**
 * Frames for one socket go out together: the TCP socket is corked at its first frame and uncorked
 * at the next flush, which writes every corked socket (one system call each, whatever the number
 * of frames). A flush runs once the current turn's work is done, but not sooner after the
 * previous one than twice as long as that one took (at most `maxCoalesceMs`): a flush of a few
 * sockets takes microseconds, so a quiet server sends at once, while one writing to thousands of
 * sockets per event (a system call costs ~10 µs each) gathers the events arriving meanwhile into
 * the same writes instead of spending its time in the kernel. See `nextFlushDelay`.
 */
const corked = new Set<Socket>();
let flushScheduled = false;
let lastFlushEnd = 0;
let lastFlushCost = 0;
let maxCoalesceMs = 25;

/** Sets the longest a frame may wait for others to share its write (0: at the end of the turn). */
export function setMaxCoalesceMs(ms: number) {
  maxCoalesceMs = ms;
}

/**
 * Milliseconds to wait before the next flush: none once the last flush is twice its own cost in
 * the past, else the rest of that, capped at `max`. So writing never takes more than about a
 * third of the server's time, and a frame waits at most `max` ms for company.
 */
export function nextFlushDelay(now: number, lastEnd: number, lastCost: number, max: number): number {
  return Math.max(0, Math.min(lastEnd + 2 * lastCost, lastEnd + max) - now);
}

function flush() {
  flushScheduled = false;
  const start = performance.now();
  for (const raw of corked) raw.uncork();
  corked.clear();
  lastFlushEnd = performance.now();
  lastFlushCost = lastFlushEnd - start;
}

function sendBatched(socket: WebSocket, data: string) {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (raw && !corked.has(raw)) {
    raw.cork();
    corked.add(raw);
    if (!flushScheduled) {
      flushScheduled = true;
      const wait = nextFlushDelay(performance.now(), lastFlushEnd, lastFlushCost, maxCoalesceMs);
      if (wait >= 1) setTimeout(flush, wait);
      else setImmediate(flush);
    }
  }
  socket.send(data);
}

/** JSON of a subscription result, made once per result object: a shared result goes to many sockets. */
const payloadJson = new WeakMap<object, string>();
function jsonOf(payload: object): string {
  let json = payloadJson.get(payload);
  if (json === undefined) payloadJson.set(payload, (json = JSON.stringify(payload)));
  return json;
}

/** Sends one frame, unless the socket is closing; a client with too much unread is disconnected. */
function sendFrame(socket: WebSocket, data: string) {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > WS_MAX_BUFFERED) return socket.close(TRY_AGAIN_LATER, "Client too slow: reconnect and resume with `after`");
  sendBatched(socket, data);
}

/**
 * Sends a subscription result as the operation's `next` frame, outside graphql-ws's own loop (see
 * `deliverTo` in src/realtime/shared-execution.ts); the payload's JSON is shared between sockets.
 */
export function sendNext(socket: WebSocket, id: string, payload: object) {
  sendFrame(socket, `{"id":${JSON.stringify(id)},"type":"next","payload":${jsonOf(payload)}}`);
}

/**
 * graphql-ws's protocol on a `ws` server: the same as graphql-ws's own `useServer`, except that
 * sending does not wait for each frame to be flushed (frames share writes, above),
 * and a client that stops reading is disconnected instead of buffering without bound.
 */
export function serveGraphQLOverWebSocket<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, E & Extra>,
  wss: WebSocketServer,
  log: (msg: string) => void,
) {
  const server = makeServer<P, E & Extra>(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on("error", (err) => log(`[websocket] server error: ${err.message}`));
  wss.on("connection", (socket, request) => {
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
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on("message", async (message) => {
            try {
              await cb(String(message));
            } catch (err) {
              log(`[websocket] message handling failed: ${(err as Error)?.stack ?? String(err)}`);
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request } as E & Extra,
    );
    socket.once("close", (code, reason) => {
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });
  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
