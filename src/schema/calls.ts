import type { Channel } from "../generated/prisma/client.js";
import type { CallMetadata } from "../services/calls.js";
import { builder } from "./builder.js";
import { ChannelObject } from "./channel.js";
import { MessageDirectionEnum } from "./message.js";
import { UserType } from "./people.js";

/** Calling channels: the inbound secret that authenticates call events (POST /inbound/calls/<channel id>). */

export const RotateChannelInboundSecretInput = builder.inputType("RotateChannelInboundSecretInput", {
  description: "Issues a new secret for a channel's inbound transport calls (admins only).",
  fields: (t) => ({ channelId: t.id({ required: true, description: "A CALLING or TEAM_EMAIL channel." }) }),
});

export const RotateChannelInboundSecretResult = builder.objectRef<{ channel: Channel; secret: string; path: string }>("RotateChannelInboundSecretResult").implement({
  description: "The channel has a new inbound secret.",
  fields: (t) => ({
    channel: t.field({ type: ChannelObject, description: "The channel.", resolve: (r) => r.channel }),
    inboundSecret: t.exposeString("secret", {
      description: "Shown this once: the provider sends it as `Authorization: Bearer <secret>`. The previous secret stops working.",
    }),
    webhookPath: t.exposeString("path", { description: "Where a CALLING channel's provider posts call events (relative to this server)." }),
  }),
});

// ---- the call entry of a CALL message ----------------------------------------------------------

export const CallStatusEnum = builder.enumType("CallStatus", {
  description: "Where a call is in its life.",
  values: {
    STARTED: { description: "Ringing." },
    ANSWERED: { description: "In progress." },
    ENDED: { description: "Over (see `missed`)." },
  } as const,
});

/** A CALL message's call, read from its metadata (what the telephony provider reported). */
export const CallType = builder.objectRef<CallMetadata & { accountId: string }>("Call").implement({
  description: "A phone call as the telephony provider reported it (started, answered, ended, recording, transcript events).",
  fields: (t) => ({
    callId: t.exposeString("callId", { description: "The provider's id of the call." }),
    direction: t.field({ type: MessageDirectionEnum, description: "INBOUND: the customer called; OUTBOUND: placed from the channel's number.", resolve: (c) => c.callDirection }),
    from: t.exposeString("from", { description: "E.164." }),
    to: t.exposeString("to", { description: "E.164." }),
    status: t.field({ type: CallStatusEnum, description: "STARTED, ANSWERED or ENDED.", resolve: (c) => c.status }),
    missed: t.boolean({ description: "Ended without being answered.", resolve: (c) => c.status === "ENDED" && !c.answeredAt && !c.durationSeconds }),
    startedAt: t.field({ type: "DateTime", nullable: true, description: "When it started ringing; null if not reported.", resolve: (c) => (c.startedAt ? new Date(c.startedAt) : null) }),
    answeredAt: t.field({ type: "DateTime", nullable: true, description: "When it was answered; null when not (yet) answered.", resolve: (c) => (c.answeredAt ? new Date(c.answeredAt) : null) }),
    endedAt: t.field({ type: "DateTime", nullable: true, description: "When it ended; null while in progress.", resolve: (c) => (c.endedAt ? new Date(c.endedAt) : null) }),
    durationSeconds: t.int({ nullable: true, description: "Talk time in seconds, as the provider reported it; null before the end.", resolve: (c) => c.durationSeconds ?? null }),
    recordingUrl: t.string({ nullable: true, description: "The provider's link to the recording (may need the provider's credentials).", resolve: (c) => c.recordingUrl ?? null }),
    transcript: t.string({ nullable: true, description: "The provider's transcript of the call, when it sent one.", resolve: (c) => c.transcript ?? null }),
    agentEmail: t.string({ nullable: true, description: "The answering agent's email as the provider sent it.", resolve: (c) => c.agentEmail ?? null }),
    answeredBy: t.field({
      type: UserType,
      nullable: true,
      description: "The agent who answered, when the provider's agentEmail is a user of the account.",
      resolve: (c, _args, ctx) => (c.agentId ? ctx.prisma.user.findFirst({ where: { accountId: c.accountId, id: c.agentId } }) : null),
    }),
  }),
});

builder.prismaObjectField("Message", "call", (t) =>
  t.field({
    type: CallType,
    nullable: true,
    authScopes: { agent: true },
    description: "CALL messages only: the call, with its recording, transcript, duration and answering agent.",
    select: { kind: true, metadata: true, accountId: true },
    resolve: (m) => {
      const meta = m.metadata as unknown as CallMetadata | null;
      return m.kind === "CALL" && meta?.callId ? { ...meta, accountId: m.accountId } : null;
    },
  }),
);
