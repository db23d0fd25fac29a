import type { Socket } from "node:net";
import type { WebSocket } from "ws";

/**
 * Outgoing WebSocket text frames, written by us rather than by `ws`'s sender: each frame is one
 * buffer (header and payload), a subscription result's payload is encoded once for every socket
 * it goes to, and a socket's frames wait in a list until the next flush writes them in one call.
 * `ws` still reads frames, answers pings and closes; the server has no per-message compression
 * (`perMessageDeflate: false`), so its own writes are whole frames too and never interleave
 * with ours inside a frame. Closing a socket flushes its waiting frames first (`closeAfterFlush`).
 *
 * A flush runs once the current turn's work is done, but not sooner after the previous one than
 * twice as long as that one took (at most `maxCoalesceMs`): a flush of a few sockets takes
 * microseconds, so a quiet server sends at once, while one writing to thousands of sockets per
 * event (a system call costs ~10 µs each) gathers the events arriving meanwhile into the same
 * writes instead of spending its time in the kernel. See `nextFlushDelay`.
 */
const waiting = new Map<WebSocket, { frames: Buffer[]; bytes: number }>();
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

function rawSocket(socket: WebSocket): Socket | undefined {
  return (socket as unknown as { _socket?: Socket })._socket;
}

function writeWaiting(socket: WebSocket, frames: Buffer[]) {
  const raw = rawSocket(socket);
  if (socket.readyState !== socket.OPEN || !raw || raw.destroyed) return;
  raw.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
}

function flush() {
  flushScheduled = false;
  const start = performance.now();
  for (const [socket, { frames }] of waiting) writeWaiting(socket, frames);
  waiting.clear();
  lastFlushEnd = performance.now();
  lastFlushCost = lastFlushEnd - start;
}

/** Bytes of frames queued for `socket` and not yet handed to the kernel (ours and `ws`'s). */
export function unsentBytes(socket: WebSocket): number {
  return socket.bufferedAmount + (waiting.get(socket)?.bytes ?? 0);
}

/** Queues one frame for `socket`; it is written at the next flush, with the socket's other frames. */
export function queueFrame(socket: WebSocket, frame: Buffer) {
  const entry = waiting.get(socket);
  if (entry) {
    entry.frames.push(frame);
    entry.bytes += frame.length;
  } else waiting.set(socket, { frames: [frame], bytes: frame.length });
  if (!flushScheduled) {
    flushScheduled = true;
    const wait = nextFlushDelay(performance.now(), lastFlushEnd, lastFlushCost, maxCoalesceMs);
    if (wait >= 1) setTimeout(flush, wait);
    else setImmediate(flush);
  }
}

/** Writes the socket's waiting frames now, then closes it: the close frame comes after them. */
export function closeAfterFlush(socket: WebSocket, code?: number, reason?: string) {
  const entry = waiting.get(socket);
  if (entry) {
    waiting.delete(socket);
    writeWaiting(socket, entry.frames);
  }
  socket.close(code, reason);
}

/** Header of an unmasked, final text frame (RFC 6455 §5.2) whose payload is `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(frame: Buffer, length: number): number {
  frame[0] = 0x81; // FIN + text
  if (length < 126) {
    frame[1] = length;
    return 2;
  }
  if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
    return 4;
  }
  frame[1] = 127;
  frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  frame.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/** One text frame holding `text`. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(headerLength(length) + length);
  frame.write(text, writeHeader(frame, length));
  return frame;
}

/** One text frame holding the already encoded `prefix` and `body`, then `suffix` (one ASCII character). */
export function textFrameAround(prefix: Buffer, body: Buffer, suffix: string): Buffer {
  const length = prefix.length + body.length + 1;
  const frame = Buffer.allocUnsafe(headerLength(length) + length);
  let at = writeHeader(frame, length);
  at += prefix.copy(frame, at);
  at += body.copy(frame, at);
  frame.write(suffix, at, "latin1");
  return frame;
}
