import { rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Auth } from "../auth.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { AdminCommandError, runAdminCommand, type AdminCommand } from "./commands.js";

/** Path of the operator socket of a server that holds the embedded database in `dataDir`. */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, "admin.sock");
}

/**
 * The embedded database takes one connection, which the running server holds; operator scripts
 * reach it through this Unix socket (owner-only, in the data directory) instead.
 * Protocol: one JSON command per connection, one JSON answer back.
 */
export async function startAdminSocket(dataDir: string, prisma: PrismaClient, auth: Auth): Promise<{ close(): Promise<void> }> {
  const file = adminSocketPath(dataDir);
  await rm(file, { force: true });
  const server = net.createServer((socket) => {
    let body = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      body += chunk;
      if (body.length > 65_536) socket.destroy();
      if (!body.includes("\n")) return;
      void (async () => {
        try {
          const result = await runAdminCommand(prisma, auth, JSON.parse(body) as AdminCommand);
          socket.end(JSON.stringify({ ok: true, ...result }) + "\n");
        } catch (err) {
          const message = err instanceof AdminCommandError ? err.message : `Failed: ${(err as Error).message}`;
          socket.end(JSON.stringify({ ok: false, message }) + "\n");
        }
      })();
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen({ path: file, readableAll: false, writableAll: false }, resolve));
  return {
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(file, { force: true });
    },
  };
}

/** Sends one command to a running server; undefined when no server is listening. */
export function sendAdminCommand(dataDir: string, cmd: AdminCommand): Promise<{ ok: boolean; message: string; token?: string } | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(adminSocketPath(dataDir));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(JSON.stringify(cmd) + "\n"));
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("end", () => resolve(JSON.parse(answer)));
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ENOENT" || err.code === "ECONNREFUSED" ? resolve(undefined) : reject(err)));
  });
}
