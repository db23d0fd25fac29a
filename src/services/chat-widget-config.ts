import type { Channel, PrismaClient } from "../generated/prisma/client.js";
import type { Services } from "../context.js";
import { recordEvents } from "../realtime/events.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { accountEventStream } from "../realtime/stream.js";
import type { SqlTx } from "../db/sql.js";
import type { ChatSettings } from "./channel-settings.js";
import { chatAvailability, isLiveChat, type ChatWidgetStatus } from "./chat-availability.js";
import { ForbiddenError } from "./errors.js";

/**
 * What the website chat widget renders for a channel, read without a caller (public), or with the
 * visitor's token when the visitor has a chat (the contact-owner heading then names the owner).
 */

export interface ChatHeadingPerson {
  name: string;
  /** One or two letters shown in the avatar circle (users have no picture in this server). */
  initials: string;
}

export interface ChatWidgetConfig {
  color: string;
  font: string;
  welcomeMessage: string;
  welcomeAsPrompt: boolean;
  heading: ChatHeadingPerson[];
  status: ChatWidgetStatus;
  /** The channel these settings are of (what `chatflow` on the widget reads). */
  channelId: string;
}

/** At most this many people in the heading; past it, that many are picked at random on each load. */
export const HEADING_SHOWN = 3;

const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0]!.toUpperCase())
    .join("") || "?";

function pickAtRandom<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

async function people(prisma: PrismaClient, accountId: string, userIds: string[], teamIds: string[]): Promise<ChatHeadingPerson[]> {
  const [users, teams] = await Promise.all([
    userIds.length ? prisma.user.findMany({ where: { accountId, id: { in: userIds }, removedAt: null }, select: { id: true, firstName: true, lastName: true } }) : [],
    teamIds.length ? prisma.team.findMany({ where: { accountId, id: { in: teamIds } }, select: { id: true, name: true } }) : [],
  ]);
  // In the order the admin chose them.
  users.sort((a, b) => userIds.indexOf(a.id) - userIds.indexOf(b.id));
  teams.sort((a, b) => teamIds.indexOf(a.id) - teamIds.indexOf(b.id));
  const all = [...users.map((u) => `${u.firstName} ${u.lastName}`.trim()), ...teams.map((t) => t.name)].map((name) => ({ name, initials: initials(name) }));
  return all.length > HEADING_SHOWN ? pickAtRandom(all, HEADING_SHOWN) : all;
}

/**
 * The widget's settings and status for a channel; null for an unknown, OFF, deleted or unpublished
 * chat (the widget shows nothing). Heading: SPECIFIC shows its users and teams; CONTACT_OWNER shows
 * the owner of the visitor's contact when `visitorConversationId` names a chat whose contact has
 * one, and the new-visitor fallback otherwise.
 */
export async function chatWidgetConfig(prisma: PrismaClient, channelId: string, visitorConversationId?: string): Promise<ChatWidgetConfig | null> {
  const channel = await prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel || !isLiveChat(channel)) return null;
  const settings = channel.settings as unknown as ChatSettings;
  const heading = settings.heading ?? { mode: "SPECIFIC", userIds: [], teamIds: [], fallbackUserIds: [], fallbackTeamIds: [] };
  let shown: ChatHeadingPerson[] | undefined;
  if (heading.mode === "CONTACT_OWNER" && visitorConversationId) {
    const conversation = await prisma.conversation.findFirst({
      where: { accountId: channel.accountId, id: visitorConversationId, channelId },
      select: { contact: { select: { ownerId: true } } },
    });
    const ownerId = conversation?.contact?.ownerId;
    if (ownerId) shown = await people(prisma, channel.accountId, [ownerId], []);
  }
  if (!shown?.length) {
    shown =
      heading.mode === "CONTACT_OWNER"
        ? await people(prisma, channel.accountId, heading.fallbackUserIds, heading.fallbackTeamIds)
        : await people(prisma, channel.accountId, heading.userIds, heading.teamIds);
  }
  return {
    color: settings.color ?? "#2d6cdf",
    font: settings.font ?? "Helvetica, Arial, sans-serif",
    welcomeMessage: settings.welcomeMessage ?? "",
    welcomeAsPrompt: settings.welcomeAsPrompt ?? false,
    heading: shown,
    status: await chatAvailability(prisma, channel.id),
    channelId: channel.id,
  };
}

/**
 * Whether a page at `origin` may start a chat on a channel: yes when the channel lists no
 * allowed origins; otherwise only a listed origin (scheme, host and port; `https://*.example.com`
 * matches subdomains). A request without an Origin header (not a browser page) is refused when
 * the list is set.
 */
export function originAllowed(allowed: readonly string[] | undefined, origin: string | null | undefined): boolean {
  if (!allowed?.length) return true;
  if (!origin) return false;
  const o = origin.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    if (e === o) return true;
    const star = e.indexOf("://*.");
    if (star < 0) return false;
    const scheme = e.slice(0, star + 3);
    const suffix = e.slice(star + 4);
    return o.startsWith(scheme) && o.endsWith(suffix) && o.length > scheme.length + suffix.length && !o.slice(scheme.length, o.length - suffix.length).includes("/");
  });
}

/** ForbiddenError unless `origin` may start chats on a channel with these settings. */
export function checkChatOrigin(settings: unknown, origin: string | null | undefined): void {
  const allowed = (settings as Partial<ChatSettings> | null)?.allowedOrigins;
  if (!originAllowed(allowed, origin)) {
    throw new ForbiddenError(origin ? `This chat does not accept visitors from ${origin}` : "This chat only accepts visitors from the sites it lists (no Origin was sent)");
  }
}

/** The outbox event telling open widgets of a chat channel that its settings changed. */
export const CHAT_WIDGET_CHANGED = "chat.widget.changed";

/** Records CHAT_WIDGET_CHANGED for a CHAT channel in the transaction that changed it (other types: nothing). */
export async function recordChatWidgetChanged(tx: SqlTx, channel: Pick<Channel, "id" | "accountId" | "inboxId" | "type">): Promise<void> {
  if (channel.type !== "CHAT") return;
  await recordEvents(tx, channel.accountId, [{ type: CHAT_WIDGET_CHANGED, inboxId: channel.inboxId, payload: { channelId: channel.id } }]);
}

/**
 * Public: one event each time an admin changes the chat channel's settings, for the widgets open
 * on its sites (they then read chatWidget again). An unknown channel's stream ends at once.
 * Changes of availability that no settings edit causes (agents going away, chat hours ending)
 * are not events: the widget also reads its settings every minute.
 */
export async function chatWidgetChanges(ctx: Pick<Services, "prisma" | "pubsub">, channelId: string): Promise<AsyncIterable<RealtimeEvent>> {
  const channel = channelId ? await ctx.prisma.channel.findUnique({ where: { id: channelId }, select: { accountId: true, type: true } }) : null;
  if (!channel || channel.type !== "CHAT") return (async function* () {})();
  return accountEventStream({
    prisma: ctx.prisma,
    pubsub: ctx.pubsub,
    accountId: channel.accountId,
    accept: (event) => event.type === CHAT_WIDGET_CHANGED && event.payload.channelId === channelId,
  });
}
