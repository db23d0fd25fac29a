import { z } from "zod";
import { getProcessLogger } from "../../log.js";

/**
 * The shapes of Meta's webhook payloads that this server reads (Messenger `object: "page"`,
 * WhatsApp `object: "whatsapp_business_account"`), checked with zod one item at a time: an entry,
 * event, message or status that does not parse is skipped and logged, and the rest of the body is
 * processed. The request is still acknowledged with 200, since Meta retries anything else for
 * hours and a body of the wrong shape will not parse any better the next time. Fields nobody
 * reads are stripped; optional fields may be absent or null.
 */

/** An id as Meta sends it: a string (a number is accepted and kept as its digits), 1-255 characters. */
const metaId = z
  .union([z.string(), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
  .transform(String)
  .pipe(z.string().trim().min(1).max(255));

/** Milliseconds since the epoch, within what a Date can hold. */
const epochMs = z.number().min(0).max(8.64e15);
const short = (max: number) => z.string().max(max).nullish();
/** Lists in one body: Meta batches at most a few hundred items. */
const list = <T extends z.ZodType>(item: T) => z.array(item).max(1000).nullish();

// Messenger ---------------------------------------------------------------------------------

const messengerAttachment = z.object({
  type: short(50),
  payload: z.object({ url: short(8192), sticker_id: z.union([z.number(), z.string().max(50)]).nullish() }).nullish(),
});

export const messengerEventSchema = z.object({
  sender: z.object({ id: metaId }).nullish(),
  recipient: z.object({ id: metaId.nullish() }).nullish(),
  timestamp: epochMs.nullish(),
  message: z
    .object({
      mid: metaId.nullish(),
      text: z.string().nullish(),
      is_echo: z.boolean().nullish(),
      quick_reply: z.object({ payload: short(1000) }).nullish(),
      attachments: z.array(messengerAttachment).max(100).nullish(),
    })
    .nullish(),
  postback: z.object({ mid: metaId.nullish(), title: short(1000), payload: short(1000) }).nullish(),
  delivery: z.object({ mids: list(metaId), watermark: epochMs.nullish() }).nullish(),
  read: z.object({ watermark: epochMs.nullish() }).nullish(),
});
export type MessengerEvent = z.output<typeof messengerEventSchema>;

export const messengerEntrySchema = z.object({ id: metaId.nullish(), messaging: list(z.unknown()) });

// WhatsApp ----------------------------------------------------------------------------------

const waMedia = z.object({ id: metaId.nullish(), mime_type: short(255), caption: z.string().nullish(), filename: short(1000), voice: z.boolean().nullish() });
const waReply = z.object({ id: short(1000), title: short(1000) }).nullish();

/** A WhatsApp id (wa_id): the customer's phone number in digits. */
const waId = metaId.pipe(z.string().regex(/^\+?\d{4,20}$/, "Must be a phone number in digits"));

export const waMessageSchema = z.object({
  id: metaId,
  from: waId,
  timestamp: z.union([z.string().max(50), z.number()]).nullish().transform((v) => (v == null ? null : String(v))),
  type: short(50),
  text: z.object({ body: z.string().nullish() }).nullish(),
  image: waMedia.nullish(),
  video: waMedia.nullish(),
  audio: waMedia.nullish(),
  document: waMedia.nullish(),
  sticker: waMedia.nullish(),
  button: z.object({ text: short(1000), payload: short(1000) }).nullish(),
  interactive: z.object({ button_reply: waReply, list_reply: waReply }).nullish(),
});
export type WaMessage = z.output<typeof waMessageSchema>;

export const waStatusSchema = z.object({
  id: metaId,
  status: z.string().max(50),
  recipient_id: metaId.nullish(),
  errors: list(z.object({ title: short(1000), message: short(1000) })),
});

export const waContactSchema = z.object({ wa_id: waId, profile: z.object({ name: short(1000) }).nullish() });

export const waChangeSchema = z.object({
  field: short(100),
  value: z
    .object({
      metadata: z.object({ phone_number_id: metaId.nullish(), display_phone_number: metaId.nullish() }).nullish(),
      contacts: list(z.unknown()),
      messages: list(z.unknown()),
      statuses: list(z.unknown()),
    })
    .nullish(),
});

export const waEntrySchema = z.object({ id: metaId.nullish(), changes: list(z.unknown()) });

// Parsing item by item ------------------------------------------------------------------------

/** Counts of one webhook body, returned in the 200 answer. `malformed`: items skipped for their shape. */
export interface WebhookCounts {
  messages: number;
  receipts: number;
  ignored: number;
  malformed: number;
}

export const emptyCounts = (): WebhookCounts => ({ messages: 0, receipts: 0, ignored: 0, malformed: 0 });

/**
 * Parses each item of `items` with `schema`; the ones that do not parse are counted in
 * `counts.malformed` and logged with their position (`where`), never thrown.
 */
export function parseEach<S extends z.ZodType>(items: readonly unknown[] | null | undefined, schema: S, where: string, counts: WebhookCounts): z.output<S>[] {
  const parsed: z.output<S>[] = [];
  (items ?? []).forEach((item, i) => {
    const result = schema.safeParse(item);
    if (result.success) return parsed.push(result.data);
    counts.malformed++;
    const issues = result.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".") || "(item)"}: ${issue.message}`);
    getProcessLogger().warn({ component: "meta-webhook", item: `${where}[${i}]`, issues }, "skipped an item not of the expected shape");
  });
  return parsed;
}
