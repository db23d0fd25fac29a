// The CLI needs DATABASE_URL even for offline commands (generate, migrate diff); without it,
// Prisma 6.19 falls back to downloading a native query engine, which this network cannot reach.
process.env.DATABASE_URL ??= "postgresql://localhost:5432/unused";

import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL, allowExitOnIdle: true }),
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
});
