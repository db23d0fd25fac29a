import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

/** `npm run test:browser`: the chat widget in Debian's Chromium (playwright-core). Not part of `npm test`. */
export default defineConfig({
  resolve: { alias: { graphql: createRequire(import.meta.url).resolve("graphql") } },
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test-browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One browser and one server at a time: the machine has two cores.
    fileParallelism: false,
    pool: "forks",
  },
});
