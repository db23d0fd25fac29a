import { builder } from "./builder.js";
import { TeamEmailSettingsType } from "./channel-settings.js";
import type { EmailVerdicts } from "../services/email-intake.js";
import type { ForwardingConfirmation } from "../services/email-bounces.js";
import { forwardingAddressFor } from "../transports/email/recipients.js";

const SpamVerdictType = builder.objectRef<NonNullable<EmailVerdicts["spam"]>>("EmailSpamVerdict").implement({
  description: "The verdict of a spam filter that ran before this server (SpamAssassin's X-Spam-Flag / X-Spam-Status, or Exchange's SCL).",
  fields: (t) => ({
    spam: t.exposeBoolean("spam", { description: "Whether the filter called the message spam." }),
    score: t.exposeFloat("score", { nullable: true, description: "The filter's score, when it gave one." }),
    source: t.exposeString("source", { description: "The header the verdict was read from." }),
  }),
});

const EmailAuthenticationResultsType = builder.objectRef<EmailVerdicts>("EmailAuthenticationResults").implement({
  description:
    "What the server verified about an inbound email's sender (SPF, DKIM and DMARC, RFC 8601 verdict keywords: pass, fail, softfail, neutral, none, temperror, permerror, policy) and whether it is held back from automatic answers. Verdicts are null when verification is turned off (EMAIL_AUTH=off).",
  fields: (t) => ({
    spf: t.string({ nullable: true, description: "SPF verdict for the sending server and the envelope sender.", resolve: (v) => v.spf ?? null }),
    dkim: t.string({ nullable: true, description: "The best DKIM signature's verdict (none: the message is not signed).", resolve: (v) => v.dkim ?? null }),
    dkimDomains: t.stringList({ description: "Domains whose DKIM signature verified.", resolve: (v) => v.dkimDomains ?? [] }),
    dmarc: t.string({ nullable: true, description: "DMARC verdict for the From domain (fail: the message is flagged).", resolve: (v) => v.dmarc ?? null }),
    dmarcPolicy: t.string({ nullable: true, description: "The From domain's published DMARC policy (none, quarantine, reject), when it has one.", resolve: (v) => v.dmarcPolicy ?? null }),
    spam: t.field({ type: SpamVerdictType, nullable: true, description: "An upstream spam filter's verdict, when the message carries one.", resolve: (v) => v.spam ?? null }),
    automated: t.string({
      nullable: true,
      description: "Why this is automated mail, if it is: auto-submitted, bulk, mailing-list, mailer-daemon or own-address. Automated mail gets no auto-reply and no owner notification.",
      resolve: (v) => v.automated ?? null,
    }),
    flagged: t.exposeBoolean("flagged", { description: "True for a DMARC failure, spam or automated mail: no auto-reply, no owner notification." }),
    reasons: t.exposeStringList("reasons", { description: "Why it is flagged: dmarc-fail, spam, or the automated reason." }),
    header: t.string({ nullable: true, description: "The Authentication-Results header the server computed, for the record.", resolve: (v) => v.header ?? null }),
  }),
});

builder.prismaObjectField("Message", "authenticationResults", (t) =>
  t.field({
    type: EmailAuthenticationResultsType,
    nullable: true,
    authScopes: { agent: true },
    description: "Inbound email only: SPF, DKIM and DMARC verdicts, the spam verdict and whether the message is flagged. Null for other messages (and for email received before verification existed).",
    select: { direction: true, metadata: true },
    resolve: (m) => (m.direction === "INBOUND" ? ((m.metadata as { email?: { authentication?: EmailVerdicts } } | null)?.email?.authentication ?? null) : null),
  }),
);

const ForwardingConfirmationType = builder.objectRef<ForwardingConfirmation>("EmailForwardingConfirmation").implement({
  description: "Gmail's forwarding-confirmation mail, received for this team email: open the link (or enter the code in Gmail) to finish setting up forwarding.",
  fields: (t) => ({
    code: t.exposeString("code", { nullable: true, description: "The confirmation code Gmail asks for." }),
    confirmationUrl: t.exposeString("confirmationUrl", { nullable: true, description: "Gmail's confirmation link." }),
    requestedBy: t.exposeString("requestedBy", { nullable: true, description: "The Gmail address that asked to forward here." }),
    receivedAt: t.field({ type: "DateTime", description: "When the confirmation mail arrived.", resolve: (c) => new Date(c.receivedAt) }),
  }),
});

builder.objectFields(TeamEmailSettingsType, (t) => ({
  autoReply: t.string({ description: "Sent once to the sender of each new conversation (never to automated, spam or DMARC-failing mail; at most AUTO_REPLY_MAX_PER_HOUR per sender). Empty: off.", resolve: (s) => s.autoReply ?? "" }),
  forwardingConfirmation: t.field({
    type: ForwardingConfirmationType,
    nullable: true,
    description: "The latest Gmail forwarding confirmation received for this address (it never becomes a conversation); null: none.",
    resolve: (s) => s.forwardingConfirmation ?? null,
  }),
}));

builder.prismaObjectField("Channel", "emailForwardingAddress", (t) =>
  t.string({
    nullable: true,
    description: "TEAM_EMAIL only: the address to forward the team mailbox to when this server receives mail itself (SMTP receiver, MX of FALLBACK_EMAIL_DOMAIN). Null for other types.",
    select: { id: true, type: true },
    resolve: (c) => (c.type === "TEAM_EMAIL" ? forwardingAddressFor(c.id) : null),
  }),
);
