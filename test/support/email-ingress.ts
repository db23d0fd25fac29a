import nodemailer from "nodemailer";
import { ChConnectDocument } from "../generated/graphql.js";
import { toGlobalId, fromGlobalId } from "../../src/schema/ids.js";
import type { TestServer } from "./server.js";
import type { User } from "../../src/generated/prisma/client.js";

/** Connects a team email through the API; returns its global id, raw id, address and inbound secret. */
export async function connectTeamEmail(t: TestServer, admin: Pick<User, "id" | "accountId">, inboxId: string, teamEmail: Record<string, unknown> & { address: string }) {
  const r = await t.client(await t.tokenFor(admin)).request(ChConnectDocument, { input: { inboxId: toGlobalId("Inbox", inboxId), name: "Support mail", teamEmail } });
  if (r.connectChannel.__typename !== "ConnectChannelResult" || !r.connectChannel.inboundEmailSecret) throw new Error(JSON.stringify(r.connectChannel));
  const id = r.connectChannel.channel.id;
  return { id, rawId: fromGlobalId(id, "Channel"), address: teamEmail.address, secret: r.connectChannel.inboundEmailSecret };
}

/**
 * Sends one message with a real SMTP client (nodemailer, no pooling) to the server's SMTP
 * receiver on `port`: the raw message as given, the envelope as given. Resolves with the server's
 * answer to DATA; rejects with nodemailer's error (responseCode, response) when refused.
 */
export async function smtpSend(port: number, mail: { from: string; to: string | string[]; raw: string | Buffer }) {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  try {
    const info = await transport.sendMail({ envelope: { from: mail.from, to: [mail.to].flat() }, raw: mail.raw });
    return info.response as string;
  } finally {
    transport.close();
  }
}

/** RFC 822 lines joined with CRLF. */
export const eml = (lines: string[]) => lines.join("\r\n") + "\r\n";
