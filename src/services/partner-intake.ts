import { z } from "zod";
import { Prisma, type Channel, type ChannelApp } from "../generated/prisma/client.js";
import type { PartnerContext } from "../context.js";
import { sqlQuery } from "../db/sql.js";
import { ChannelOffError, NotFoundError, ValidationError } from "./errors.js";
import { parseInput } from "./validation.js";
import { richTextProblem } from "./rich-text.js";
import { prepareEmailHtmlOffThread } from "./rich-text-offload.js";
import { ATTACHMENT_KINDS, receiveInbound, type AttachmentInput, type InboundMessage, type InboundResult } from "./intake.js";

/** Partner-built custom channels' intake: publishInboundMessage, checked against the app's capabilities, then the shared intake. */

/** The capabilities a channel app declares (ChannelApp.capabilities). */
export interface AppCapabilities {
  messageKinds?: string[];
  attachmentKinds?: string[];
  richText?: boolean;
  maxAttachmentSize?: number;
  maxAttachments?: number;
}

/**
 * Checks content against a channel app's declared capabilities; throws a ValidationError naming
 * each offending field under `root` (e.g. input.attachments.1.kind). Undeclared limits allow all.
 */
export function checkCapabilities(app: Pick<ChannelApp, "capabilities">, content: { richText?: string | null; attachments?: AttachmentInput[] | null }, root = ["input"]) {
  const caps = (app.capabilities ?? {}) as AppCapabilities;
  const errors: { path: string[]; message: string }[] = [];
  if (content.richText && caps.richText === false) errors.push({ path: [...root, "richText"], message: "This channel app does not support rich text" });
  const attachments = content.attachments ?? [];
  if (caps.maxAttachments !== undefined && attachments.length > caps.maxAttachments) errors.push({ path: [...root, "attachments"], message: `At most ${caps.maxAttachments} attachments` });
  attachments.forEach((a, i) => {
    if (caps.attachmentKinds && !caps.attachmentKinds.includes(a.kind)) errors.push({ path: [...root, "attachments", String(i), "kind"], message: `This channel app does not support ${a.kind} attachments` });
    if (caps.maxAttachmentSize !== undefined && (a.size ?? 0) > caps.maxAttachmentSize) errors.push({ path: [...root, "attachments", String(i), "size"], message: `At most ${caps.maxAttachmentSize} bytes` });
  });
  if (errors.length) throw new ValidationError(errors);
}

export const attachmentSchema = z.object({
  kind: z.enum(ATTACHMENT_KINDS),
  url: z.string().trim().url("Must be a URL").max(2048),
  name: z.string().trim().max(255).nullish(),
  mimeType: z.string().trim().max(255).nullish(),
  size: z.number().int().min(0).nullish(),
});

const publishSchema = z
  .object({
    externalId: z.string().trim().min(1, "Must not be empty").max(255),
    threadKey: z.string().trim().max(255).nullish(),
    sender: z.object({
      name: z.string().trim().max(200).nullish(),
      email: z.string().trim().toLowerCase().email("Must be an email address").max(254).nullish(),
      phone: z.string().trim().max(40).nullish(),
      handle: z.string().trim().max(255).nullish(),
    }),
    text: z.string().max(100_000).nullish(),
    // Bounded before it is parsed (size and nesting: RICH_TEXT_LIMITS); sanitized after parsing,
    // off the event loop when large (publishInboundMessage).
    richText: z
      .string()
      .nullish()
      .superRefine((html, check) => {
        const problem = html == null ? null : richTextProblem(html);
        if (problem) check.addIssue({ code: "custom", message: problem });
      }),
    attachments: z.array(attachmentSchema).max(50).nullish(),
    subject: z.string().trim().max(500).nullish(),
  })
  .refine((v) => v.text || v.richText || v.attachments?.length, { message: "A message needs text, rich text or an attachment", path: ["text"] });

const NEEDS_CONTENT = "A message needs text, rich text or an attachment";

export type PublishInput = z.input<typeof publishSchema> & { channelId: string };

/**
 * A partner publishes a customer's message into one of its CUSTOM channels.
 * The channel must be a CUSTOM channel of an app owned by the calling partner (otherwise
 * NotFoundError, exactly like a missing one). A channel that is OFF or deleted refuses intake
 * with ChannelOffError (deleted channels answer like OFF ones: the partner's id was once valid).
 * Content is checked against the app's capabilities. The threading model comes from the app:
 * THREAD_KEY joins the thread with `threadKey`; NEW_THREAD_PER_MESSAGE always starts one.
 */
export async function publishInboundMessage(ctx: PartnerContext, input: PublishInput): Promise<InboundResult> {
  const [channel] = await sqlQuery<PublishChannel>(ctx.prisma, Prisma.sql`
    SELECT ch.id, ch."accountId", ch."inboxId", ch.status::text AS status, ch."deletedAt", ch."autoAssign", ch."routingTarget"::text AS "routingTarget",
           ch."onlyAvailable", ch."conversationDefaults", app.capabilities, app."threadingModel"::text AS "threadingModel"
      FROM "Channel" ch JOIN "ChannelApp" app ON app.id = ch."channelAppId"
     WHERE ch.id = ${input.channelId} AND ch.type = 'CUSTOM' AND app."partnerId" = ${ctx.partnerId}`);
  if (!channel) throw new NotFoundError("Channel", input.channelId);
  if (channel.deletedAt) throw new ChannelOffError(channel.id, "This channel was deleted and takes no messages");
  if (channel.status === "OFF") throw new ChannelOffError(channel.id);
  const data = parseInput(publishSchema, input);
  // What the partner sent, not what survived sanitizing: an app without rich text refuses any.
  checkCapabilities(channel, { richText: input.richText, attachments: data.attachments as AttachmentInput[] | undefined });
  // Sanitized as stored; a body that sanitizes to nothing (only a script, say) counts as none.
  const richText = data.richText ? (await prepareEmailHtmlOffThread(data.richText, false)).richText || null : null;
  if (!data.text && !richText && !data.attachments?.length) throw ValidationError.field(["input", "text"], NEEDS_CONTENT);
  return receiveInbound(ctx.prisma, {
    accountId: channel.accountId,
    channel,
    externalId: data.externalId,
    threadKey: data.threadKey,
    newThread: channel.threadingModel === "NEW_THREAD_PER_MESSAGE",
    sender: data.sender,
    text: data.text,
    richText,
    attachments: (data.attachments ?? undefined) as AttachmentInput[] | undefined,
    subject: data.subject,
  });
}

type PublishChannel = InboundMessage["channel"] & Pick<Channel, "accountId" | "status" | "deletedAt"> & Pick<ChannelApp, "capabilities" | "threadingModel">;
