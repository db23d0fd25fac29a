import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { closeAfterFlush, nextFlushDelay, queueFrame, textFrame, textFrameAround } from "../src/http/ws-frames.js";

// Frames the server writes itself (src/http/ws-frames.ts), read by a real `ws` client.
describe("WebSocket frames written by the server", () => {
  let server: http.Server;
  let wss: WebSocketServer;
  let url: string;
  let onConnection: (socket: WebSocket) => void = () => {};

  beforeAll(async () => {
    server = http.createServer();
    wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on("connection", (socket) => onConnection(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  /** Connects, lets the server queue what `send` queues, and returns every message and the close code. */
  async function receive(send: (socket: WebSocket) => void): Promise<{ messages: string[]; code: number }> {
    onConnection = send;
    const client = new WebSocket(url);
    const messages: string[] = [];
    client.on("message", (data, isBinary) => messages.push(isBinary ? "<binary>" : String(data)));
    const code = await new Promise<number>((resolve, reject) => {
      client.once("close", resolve);
      client.once("error", reject);
    });
    return { messages, code };
  }

  it("encodes every length class of the header (7-bit, 16-bit, 64-bit) and multi-byte text", async () => {
    const texts = ["", "é".repeat(62) + "x", "a".repeat(125), "a".repeat(126), "ü".repeat(40_000), "a".repeat(65_535), "a".repeat(65_536), "€".repeat(30_000)];
    const around = textFrameAround(Buffer.from('{"id":"ä1","payload":'), Buffer.from('{"text":"ﬁ ok"}'), "}");
    const { messages, code } = await receive((socket) => {
      for (const text of texts) queueFrame(socket, textFrame(text));
      queueFrame(socket, around);
      closeAfterFlush(socket, 4000, "done");
    });
    expect(messages).toEqual([...texts, '{"id":"ä1","payload":{"text":"ﬁ ok"}}']);
    expect(code).toBe(4000);
  });

  it("writes the frames queued before a close ahead of the close frame", async () => {
    const { messages, code } = await receive((socket) => {
      queueFrame(socket, textFrame("first"));
      socket.ping();
      queueFrame(socket, textFrame("second"));
      closeAfterFlush(socket, 1001, "Going away");
    });
    expect(messages).toEqual(["first", "second"]);
    expect(code).toBe(1001);
  });
});

// When the next flush may run: the pacing rule on its own (delivery and order end to end are in
// realtime.test.ts).
describe("WebSocket write coalescing", () => {
  it("flushes at once after a cheap flush (a quiet or small server adds no delay)", () => {
    expect(nextFlushDelay(1000.5, 1000, 0.05, 25)).toBe(0);
    expect(nextFlushDelay(1000, 0, 0, 25)).toBe(0);
  });

  it("waits twice the last flush's cost, counted from its end, after an expensive flush", () => {
    expect(nextFlushDelay(1002, 1000, 5, 25)).toBe(8);
    expect(nextFlushDelay(1011, 1000, 5, 25)).toBe(0);
  });

  it("never holds a frame longer than the configured maximum, and 0 turns waiting off", () => {
    expect(nextFlushDelay(1000, 1000, 40, 25)).toBe(25);
    expect(nextFlushDelay(1000, 1000, 40, 0)).toBe(0);
  });
});
