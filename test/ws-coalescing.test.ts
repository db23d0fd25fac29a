import { describe, expect, it } from "vitest";
import { nextFlushDelay } from "../src/http/ws-connections.js";

// When the next flush of corked WebSocket frames may run: the pacing rule on its own (the
// frames' delivery and order are covered end to end in realtime.test.ts).
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
