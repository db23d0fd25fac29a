import { rm } from "node:fs/promises";
import { startServer, type RunningServer } from "../../src/server.js";
import { testServerConfig } from "./server.js";

/**
 * A real server that can be stopped and started again on the SAME database (a throwaway
 * PostgreSQL database with DATABASE_URL, else an embedded one in a data directory kept across
 * restarts), to prove what survives a restart. `close()` stops it and deletes the database.
 */
export async function startRestartableServer() {
  const { dataDir, database, config } = await testServerConfig("inbox-restart-", { DELIVERY_WORKER: "false" });
  let server: RunningServer = await startServer(config, { log: () => {} });
  return {
    get server() {
      return server;
    },
    /** Stops the running server (database kept) and starts a new one on the same database. */
    async restart() {
      await server.close();
      server = await startServer(config, { log: () => {} });
      return server;
    },
    async close() {
      await server.close();
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
