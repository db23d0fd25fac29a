import type { Channel, Prisma, PrismaClient } from "../generated/prisma/client.js";
import type { ChatSettings } from "./channel-settings.js";
import { CHAT_CHANNEL_TYPES } from "./routing.js";

/**
 * What the chat widget shows, decided from the CHAT channel's availability settings (users'
 * availability, chat hours in a time zone, or 24/7), the agents who would take the chat and
 * their chat capacity. Public: no caller, only a channel id.
 */

export type ChatWidgetState = "AVAILABLE" | "AWAY" | "OFFLINE" | "AT_CAPACITY";

export interface ChatWidgetStatus {
  /** False: the widget shows no launcher at all. */
  showLauncher: boolean;
  /**
   * AVAILABLE: someone will answer; AWAY: nobody is available (users mode); OFFLINE: outside chat
   * hours, or the channel is off, deleted, unpublished or unknown; AT_CAPACITY: every available
   * agent is at their chat capacity.
   */
  state: ChatWidgetState;
  /** Away message, waiting message, or null. */
  message: string | null;
  typicalReplyTime: ChatSettings["typicalReplyTime"] | null;
  /** OFFLINE with SHOW_RETURN_TIME under chat hours: the next opening. */
  returnsAt: Date | null;
  /** The channel asks for explicit consent before a chat starts (startChat refuses without it). */
  consentRequired: boolean;
  consentText: string | null;
}

/** Consent settings of a chat channel (same shape as Messenger's `gdpr`); absent means OFF. */
export interface ChatConsent {
  mode: "OFF" | "EXPLICIT" | "IMPLIED";
  consentText?: string;
}

const HIDDEN: ChatWidgetStatus = { showLauncher: false, state: "OFFLINE", message: null, typicalReplyTime: null, returnsAt: null, consentRequired: false, consentText: null };

const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;
type Day = (typeof DAYS)[number];
type Range = ChatSettings["availability"]["ranges"][number];

/** The wall clock in `timeZone` at `at`: weekday, date parts and minutes since midnight. */
export function zonedClock(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    weekday: "short",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = get("weekday").toUpperCase().slice(0, 3) as Day;
  return { day, year: Number(get("year")), month: Number(get("month")), date: Number(get("day")), minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instant at which the wall clock in `timeZone` reads this local date and minute (DST-safe for real openings). */
function zonedInstant(year: number, month: number, date: number, minutes: number, timeZone: string): Date {
  const wanted = Date.UTC(year, month - 1, date, Math.floor(minutes / 60), minutes % 60);
  let guess = wanted;
  // Two rounds: the zone's offset at the guess, then at the corrected instant (crossing a DST change).
  for (let i = 0; i < 2; i++) {
    const c = zonedClock(new Date(guess), timeZone);
    const shown = Date.UTC(c.year, c.month - 1, c.date, Math.floor(c.minutes / 60), c.minutes % 60);
    guess += wanted - shown;
  }
  return new Date(guess);
}

/** True when `at` falls inside one of the chat-hours ranges (start inclusive, end exclusive). */
export function withinChatHours(ranges: Range[], timeZone: string, at: Date): boolean {
  const now = zonedClock(at, timeZone);
  return ranges.some((r) => r.day === now.day && toMinutes(r.start) <= now.minutes && now.minutes < toMinutes(r.end));
}

/** The next instant a chat-hours range opens after `at` (within a week), or null without ranges. */
export function nextOpening(ranges: Range[], timeZone: string, at: Date): Date | null {
  const now = zonedClock(at, timeZone);
  const today = DAYS.indexOf(now.day);
  for (let offset = 0; offset <= 7; offset++) {
    const day = DAYS[(today + offset) % 7];
    const starts = ranges
      .filter((r) => r.day === day)
      .map((r) => toMinutes(r.start))
      .filter((m) => offset > 0 || m > now.minutes)
      .sort((a, b) => a - b);
    if (starts.length === 0) continue;
    // Calendar arithmetic on the local date (Date.UTC normalises day overflow across months).
    const local = new Date(Date.UTC(now.year, now.month - 1, now.date + offset));
    return zonedInstant(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), starts[0], timeZone);
  }
  return null;
}

/**
 * The users who would take a chat on this channel: with SPECIFIC automatic routing, its users and
 * its teams' members who may see the channel's inbox (routing picks no one else); otherwise
 * (routing off, or contact-owner routing, which a new visitor does not match) the members of the
 * channel's inbox, directly or through teams. Only PAID seats. `open` counts each one's OPEN
 * chats (CHAT_CHANNEL_TYPES): what their chat capacity limits; open emails do not count.
 */
async function chatAgents(prisma: PrismaClient, channel: Pick<Channel, "id" | "accountId" | "inboxId" | "autoAssign" | "routingTarget">) {
  const { accountId } = channel;
  const viaRouting = channel.autoAssign && channel.routingTarget === "SPECIFIC";
  const members: Prisma.UserWhereInput[] = [{ inboxes: { some: { inboxId: channel.inboxId } } }, { teams: { some: { team: { inboxes: { some: { inboxId: channel.inboxId } } } } } }];
  const users = await prisma.user.findMany({
    where: {
      accountId,
      seat: "PAID",
      removedAt: null,
      ...(viaRouting
        ? {
            AND: [
              { OR: [{ routingChannels: { some: { channelId: channel.id } } }, { teams: { some: { team: { routingChannels: { some: { channelId: channel.id } } } } } }] },
              { OR: [{ role: { not: "AGENT" } }, ...members] },
            ],
          }
        : { OR: members }),
    },
    select: { id: true, availability: true, chatCapacity: true },
  });
  if (users.length === 0) return [];
  const counts = await prisma.conversation.groupBy({
    by: ["assigneeId"],
    where: { accountId, status: "OPEN", assigneeId: { in: users.map((u) => u.id) }, channel: { type: { in: [...CHAT_CHANNEL_TYPES] } } },
    _count: { _all: true },
  });
  const open = new Map(counts.map((c) => [c.assigneeId, c._count._all]));
  return users.map((u) => ({ ...u, open: open.get(u.id) ?? 0 }));
}

/** A channel the widget may show: a live, published CHAT channel that is ON. */
export function isLiveChat(channel: Pick<Channel, "type" | "status" | "deletedAt" | "settings"> | null): boolean {
  if (!channel || channel.type !== "CHAT" || channel.status !== "ON" || channel.deletedAt) return false;
  return (channel.settings as Partial<ChatSettings>).published !== false;
}

/** The chat channel's consent rule, read from settings.gdpr when present. */
export function chatConsent(settings: unknown): ChatConsent {
  const gdpr = (settings as { gdpr?: Partial<ChatConsent> } | null)?.gdpr;
  return gdpr?.mode === "EXPLICIT" || gdpr?.mode === "IMPLIED" ? { mode: gdpr.mode, consentText: gdpr.consentText } : { mode: "OFF" };
}

/**
 * The widget's status for a channel at `now` (default: the current time; injectable for tests).
 * An unknown, OFF, deleted or unpublished channel (or one of another type) hides the launcher.
 * - Open or not: ALWAYS is always open; CHAT_HOURS when `now`, in the settings' time zone, is in
 *   a range; USERS when at least one of the chat's agents is AVAILABLE.
 * - Not open: offlineBehavior HIDE_LAUNCHER hides it; SHOW_RETURN_TIME gives `returnsAt` (chat
 *   hours only; otherwise it falls back to the away message); SHOW_AWAY_MESSAGE gives the away
 *   message. State OFFLINE outside chat hours, AWAY when nobody is available.
 * - Open but every AVAILABLE agent at their chat capacity (OPEN assigned chats): state
 *   AT_CAPACITY; WAITING_MESSAGE shows the waiting message, HIDE_LAUNCHER hides the launcher,
 *   NOTHING shows the widget as usual (no message).
 */
export async function chatAvailability(prisma: PrismaClient, channelId: string, now: Date = new Date()): Promise<ChatWidgetStatus> {
  const channel = await prisma.channel.findUnique({ where: { id: channelId } });
  if (!channel || !isLiveChat(channel)) return HIDDEN;
  const settings = channel.settings as unknown as ChatSettings;
  const consent = chatConsent(channel.settings);
  const base = {
    typicalReplyTime: settings.typicalReplyTime ?? "FEW_MINUTES",
    returnsAt: null,
    consentRequired: consent.mode === "EXPLICIT",
    consentText: consent.mode === "OFF" ? null : (consent.consentText ?? null),
  };
  const availability = settings.availability ?? { mode: "USERS", timeZone: "UTC", ranges: [] };
  const agents = await chatAgents(prisma, channel);
  const available = agents.filter((a) => a.availability === "AVAILABLE");

  const open =
    availability.mode === "ALWAYS" ? true : availability.mode === "CHAT_HOURS" ? withinChatHours(availability.ranges, availability.timeZone, now) : available.length > 0;
  if (!open) {
    const state: ChatWidgetState = availability.mode === "CHAT_HOURS" ? "OFFLINE" : "AWAY";
    const behavior = settings.offlineBehavior ?? "SHOW_AWAY_MESSAGE";
    if (behavior === "HIDE_LAUNCHER") return { ...HIDDEN, state };
    const returnsAt = behavior === "SHOW_RETURN_TIME" && availability.mode === "CHAT_HOURS" ? nextOpening(availability.ranges, availability.timeZone, now) : null;
    return { ...base, showLauncher: true, state, message: returnsAt ? null : settings.awayMessage, returnsAt };
  }

  const atCapacity = available.length > 0 && available.every((a) => a.chatCapacity !== null && a.open >= a.chatCapacity);
  if (atCapacity) {
    const behavior = settings.atCapacityBehavior ?? "WAITING_MESSAGE";
    if (behavior === "HIDE_LAUNCHER") return { ...HIDDEN, state: "AT_CAPACITY" };
    return { ...base, showLauncher: true, state: "AT_CAPACITY", message: behavior === "WAITING_MESSAGE" ? settings.waitingMessage : null };
  }
  return { ...base, showLauncher: true, state: "AVAILABLE", message: null };
}
