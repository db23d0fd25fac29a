import { ConfigError, loadConfig, type Config } from "../src/config.js";
import { createAuth } from "../src/auth.js";
import { openDatabase } from "../src/db/database.js";
import { AdminCommandError, runAdminCommand, type AdminCommand } from "../src/admin/commands.js";
import { sendAdminCommand } from "../src/admin/socket.js";

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Runs an operator command against the configured database: DATABASE_URL when set; else through
 * the running server that holds the embedded database; else on the embedded database directly.
 * Prints the message on stderr and the token (if any) alone on stdout.
 */
export async function runCommand(cmd: AdminCommand): Promise<void> {
  const cfg = config();
  let result: { ok: boolean; message: string; token?: string } | undefined;
  if (!cfg.databaseUrl) result = await sendAdminCommand(cfg.dataDir, cmd);
  if (!result) {
    const db = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir });
    try {
      result = { ok: true, ...(await runAdminCommand(db.prisma, await createAuth(cfg), cmd)) };
    } catch (err) {
      if (!(err instanceof AdminCommandError)) throw err;
      result = { ok: false, message: err.message };
    } finally {
      await db.close();
    }
  }
  console.error(result.message);
  if (result.token) console.log(result.token);
  if (!result.ok) process.exitCode = 1;
}

/** Reads `--name value` style flags. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
