import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import type { Channel } from "../../generated/prisma/client.js";
import type { Services } from "../../context.js";
import { MalformedEmailError, receiveEmail } from "../../services/email-intake.js";
import { findRecipientChannel } from "./recipients.js";

/** An SMTP reply with its code (smtp-server answers `responseCode message`). */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The channels each open session's accepted recipients belong to (by channel id: one delivery per channel). */
const sessionChannels = new WeakMap<SMTPServerSession, Map<string, Channel>>();

export interface SmtpIngress {
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The built-in SMTP receiver (SMTP_LISTEN): mail for the addresses this server owns
 * (findRecipientChannel) goes into the same intake as POST /inbound/email (receiveEmail).
 *
 * - RCPT TO an address not ours: 550 5.1.1 (no relaying); an OFF channel's: 550 5.2.1.
 * - SIZE is announced and enforced (MAX_EMAIL_BYTES): larger mail gets 552 5.3.4.
 * - STARTTLS with SMTP_TLS_CERT/SMTP_TLS_KEY when configured; no AUTH (this is an MX, not a submission server).
 * - 250 only after the intake committed for every recipient channel: a crash before that leaves
 *   the client without 250, and its retry lands once (intake is idempotent on Message-ID).
 *   Malformed mail: 550 5.6.0; any other failure: 451 4.3.0 (the sender retries).
 * `close()` stops accepting and waits for sessions in DATA to finish.
 */
export async function startSmtpIngress(services: Services, log: (m: string) => void): Promise<SmtpIngress> {
  const { config } = services;
  const email = config.transports.email;
  const listen = email.listen!;
  const tls = email.tls ? { key: readFileSync(email.tls.keyFile), cert: readFileSync(email.tls.certFile) } : null;
  const maxBytes = config.transports.maxEmailBytes;
  const server = new SMTPServer({
    name: email.hostname ?? os.hostname(),
    banner: "inbox-server ESMTP",
    size: maxBytes,
    authOptional: true,
    disabledCommands: tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    maxClients: email.maxClients,
    // Clients that stall must not hold a slot: SMTP's own timeouts are minutes, this is plenty.
    socketTimeout: 60_000,
    closeTimeout: 10_000,
    logger: false,
    disableReverseLookup: true,
    onMailFrom(address, session, callback) {
      if (address.args && typeof address.args === "object" && "SIZE" in address.args && Number((address.args as Record<string, string>).SIZE) > maxBytes) {
        return callback(smtpError(552, `5.3.4 Message too big: at most ${maxBytes} bytes`));
      }
      sessionChannels.set(session, new Map());
      callback();
    },
    onRcptTo(address, session, callback) {
      findRecipientChannel(services.prisma, address.address).then(
        (found) => {
          if ("refused" in found) {
            return callback(found.refused === "off" ? smtpError(550, "5.2.1 This mailbox is disabled") : smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
          }
          let channels = sessionChannels.get(session);
          if (!channels) sessionChannels.set(session, (channels = new Map()));
          channels.set(found.channel.id, found.channel);
          callback();
        },
        (err: Error) => {
          log(`[smtp] RCPT lookup failed: ${err.message}`);
          callback(smtpError(451, "4.3.0 Temporary failure, try again later"));
        },
      );
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return callback(smtpError(552, `5.3.4 Message too big: at most ${maxBytes} bytes`));
        const raw = Buffer.concat(chunks);
        const channels = [...(sessionChannels.get(session)?.values() ?? [])];
        const sender = { ip: session.remoteAddress, helo: session.hostNameAppearsAs, mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "" };
        // One intake per channel (several recipients of one account, or of several): each is idempotent.
        Promise.all(channels.map((channel) => receiveEmail(services, channel, raw, sender))).then(
          () => callback(null, "2.0.0 Message accepted"),
          (err: Error) => {
            if (err instanceof MalformedEmailError) return callback(smtpError(550, `5.6.0 ${err.message}`));
            log(`[smtp] intake failed: ${err.stack ?? err.message}`);
            callback(smtpError(451, "4.3.0 Temporary failure, try again later"));
          },
        );
      });
    },
  });
  server.on("error", (err) => log(`[smtp] ${err.message}`));

  const listenOn = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once("error", onError);
      server.listen(port, listen.host, () => {
        server.server.off("error", onError);
        resolve();
      });
    });
  try {
    await listenOn(listen.port);
  } catch (err) {
    // The demo's default port may be taken (another instance): any free port will do, it is printed.
    if (!listen.demo || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    await listenOn(0);
  }
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: listen.host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
