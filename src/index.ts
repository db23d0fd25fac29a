import { ConfigError, loadConfig } from "./config.js";
import { startServer } from "./server.js";
import { createLogger, getProcessLogger } from "./log.js";

const started = Date.now();
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    getProcessLogger().fatal(`Configuration error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel });
const server = await startServer(config, { logger });
logger.info(`Inbox server ready at ${server.url} in ${Date.now() - started} ms (${config.databaseUrl ? "PostgreSQL" : `embedded database in ${config.dataDir}`}).`);
if (server.smtp) logger.info(`SMTP receiver listening on ${server.smtp.host}:${server.smtp.port} (mail for team addresses, their forwarding aliases and inbox fallback addresses).`);
logger.info(`Get a token: npm run token -- --email owner@acme.test   then send "Authorization: Bearer <token>".`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    try {
      await server.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    }
  });
}
