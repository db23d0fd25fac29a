import type { AttachmentKind, PrismaClient } from "../../generated/prisma/client.js";
import type { TransportConfig } from "../../config.js";
import { receiveInbound, type AttachmentInput } from "../../services/intake.js";
import { applyReceipt } from "./graph-api.js";
import { emptyCounts, parseEach, waChangeSchema, waContactSchema, waEntrySchema, waMessageSchema, waStatusSchema, type WaMessage } from "./webhook-shapes.js";

/** "+1 555-000 1234" or "15550001234" -> "+15550001234" (how Channel.phoneNumber is stored). */
export function toE164(phone: string): string {
  return `+${phone.replace(/\D/g, "")}`;
}

const MEDIA: Record<string, AttachmentKind> = { image: "IMAGE", video: "VIDEO", audio: "AUDIO", document: "FILE", sticker: "STICKER" };

/**
 * WhatsApp media arrive as ids, not files: the attachment's url is the Graph API media endpoint
 * (GET it with the access token to obtain the short-lived download link).
 */
function contentOf(m: WaMessage, graphBase: string): { text: string | null; attachments: AttachmentInput[] } {
  const type = m.type ?? "unknown";
  if (type === "text") return { text: m.text?.body ?? "", attachments: [] };
  if (type === "button") return { text: m.button?.text ?? m.button?.payload ?? "", attachments: [] };
  if (type === "interactive") return { text: m.interactive?.button_reply?.title ?? m.interactive?.list_reply?.title ?? "", attachments: [] };
  const media = Object.hasOwn(MEDIA, type) ? m[type as "image" | "video" | "audio" | "document" | "sticker"] : null;
  if (media?.id) {
    const kind = type === "audio" && media.voice ? "VOICE_NOTE" : MEDIA[type];
    return { text: media.caption ?? null, attachments: [{ kind, url: `${graphBase}/${encodeURIComponent(media.id)}`, name: media.filename ?? null, mimeType: media.mime_type ?? null }] };
  }
  return { text: `[${type} message]`, attachments: [] };
}

const STATUS = { sent: "SENT", delivered: "DELIVERED", read: "READ", failed: "FAILED" } as const;

/**
 * Handles one WhatsApp Cloud API webhook body (`object: "whatsapp_business_account"`): each
 * change's messages go through intake on the WHATSAPP channel whose phone number is the metadata's
 * display number (E.164), with handle = wa_id, externalId = wamid and threadKey = wa_id; the
 * sender's profile name and phone number come along. Statuses (sent, delivered, read, failed)
 * update the matching outbound messages. Unknown numbers and OFF channels are ignored; entries,
 * changes, messages and statuses of the wrong shape are skipped (counted as `malformed`, logged),
 * see webhook-shapes.ts.
 */
export async function handleWhatsAppWebhook(prisma: PrismaClient, config: TransportConfig, body: { entry?: unknown }) {
  const counts = emptyCounts();
  if (body.entry != null && !Array.isArray(body.entry)) counts.malformed++;
  for (const [i, entry] of parseEach(Array.isArray(body.entry) ? body.entry : [], waEntrySchema, "entry", counts).entries()) {
    for (const [j, change] of parseEach(entry.changes, waChangeSchema, `entry[${i}].changes`, counts).entries()) {
      const value = change.value;
      const where = `entry[${i}].changes[${j}].value`;
      const display = value?.metadata?.display_phone_number;
      const channel = display
        ? await prisma.channel.findFirst({ where: { phoneNumber: toE164(display), type: "WHATSAPP", deletedAt: null }, orderBy: [{ status: "asc" }, { createdAt: "asc" }] })
        : null;
      if (!value || !channel || channel.status !== "ON") {
        counts.ignored += (value?.messages?.length ?? 0) + (value?.statuses?.length ?? 0);
        continue;
      }
      const contacts = parseEach(value.contacts, waContactSchema, `${where}.contacts`, counts);
      const names = new Map(contacts.map((c) => [c.wa_id, c.profile?.name ?? null]));
      for (const m of parseEach(value.messages, waMessageSchema, `${where}.messages`, counts)) {
        const { text, attachments } = contentOf(m, config.graphApiBaseUrl);
        await receiveInbound(prisma, {
          accountId: channel.accountId,
          channel,
          externalId: m.id,
          threadKey: m.from,
          sender: { name: names.get(m.from) ?? null, phone: toE164(m.from), handle: m.from },
          text,
          attachments,
          metadata: { whatsapp: { phoneNumberId: value.metadata?.phone_number_id ?? null, waId: m.from, type: m.type ?? null, timestamp: m.timestamp } },
        });
        counts.messages++;
      }
      for (const s of parseEach(value.statuses, waStatusSchema, `${where}.statuses`, counts)) {
        const status = Object.hasOwn(STATUS, s.status) ? STATUS[s.status as keyof typeof STATUS] : null;
        if (!status) {
          counts.ignored++;
          continue;
        }
        const error = s.errors?.map((e) => e.message ?? e.title).filter(Boolean).join("; ") || null;
        await applyReceipt(prisma, { accountId: channel.accountId, channelId: channel.id, status, externalIds: [s.id], error });
        counts.receipts++;
      }
    }
  }
  return counts;
}
