import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // One graphql instance: without this, vitest loads graphql's ESM build for our code and its CJS
  // build for Pothos ("Cannot use GraphQLObjectType from another module or realm").
  resolve: { alias: { graphql: createRequire(import.meta.url).resolve("graphql") } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own server and database; two at a time suits a 2-core machine.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    pool: "forks",
    // Leak tests force a collection before measuring the heap.
    poolOptions: { forks: { execArgv: ["--expose-gc"] } },
  },
});
