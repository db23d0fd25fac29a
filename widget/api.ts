/**
 * The widget's side of the visitor API on /graphql: plain fetch, no credentials (the visitor token
 * travels as a bearer header), the live replies over SSE read from a fetch stream.
 */

export interface WidgetStatus {
  showLauncher: boolean;
  state: "AVAILABLE" | "AWAY" | "OFFLINE" | "AT_CAPACITY";
  message: string | null;
  typicalReplyTime: "FEW_MINUTES" | "FEW_HOURS" | "ONE_DAY" | null;
  returnsAt: string | null;
  consentRequired: boolean;
  consentText: string | null;
}

export interface WidgetConfig {
  color: string;
  font: string;
  welcomeMessage: string;
  welcomeAsPrompt: boolean;
  heading: { name: string; initials: string }[];
  status: WidgetStatus;
}

export interface ChatMessage {
  id: string;
  direction: "INBOUND" | "OUTBOUND";
  senderType: string;
  authorName: string | null;
  text: string | null;
  createdAt: string;
  eventCursor?: string | null;
  attachments?: Attachment[];
  /** A bot question's buttons. */
  quickReplies?: { label: string; value: string }[];
}

export interface Attachment {
  name: string | null;
  mimeType: string | null;
  size: number | null;
  /** A link the agent gave. */
  url: string | null;
  /** A file kept by the server: a short-lived signed URL, relative to the server unless PUBLIC_URL is set. */
  downloadUrl: string | null;
}

const MESSAGE = "id direction senderType authorName text createdAt attachments { name mimeType size url downloadUrl } quickReplies { label value }";
const WIDGET = "color font welcomeMessage welcomeAsPrompt heading { name initials } status { showLauncher state message typicalReplyTime returnsAt consentRequired consentText }";
const CONFIG = `query InboxChatWidget($channelId: ID!) { chatWidget(channelId: $channelId) { ${WIDGET} } }`;
const START = `mutation InboxChatStart($input: StartChatInput!) { startChat(input: $input) { __typename
  ... on StartChatResult { visitorToken conversationId } ... on Error { errorMessage: message } } }`;
const SEND = `mutation InboxChatSend($input: SendVisitorMessageInput!) { sendVisitorMessage(input: $input) { __typename
  ... on SendVisitorMessageResult { sentMessage { ${MESSAGE} } } ... on Error { errorMessage: message } } }`;
const END = `mutation InboxChatEnd($input: EndChatInput!) { endChat(input: $input) { __typename
  ... on EndChatResult { transcriptSentTo } ... on Error { errorMessage: message } } }`;
const HISTORY = `query InboxChatHistory { visitorConversation { id status eventCursor messages { ${MESSAGE} } } }`;
const CHANGES = `subscription InboxChatChanges($channelId: ID!) { chatWidgetChanged(channelId: $channelId) { ${WIDGET} } }`;
const LIVE = `subscription InboxChatLive($after: String) { visitorMessageAdded(after: $after) { ${MESSAGE} eventCursor } }`;
const TYPING = `mutation InboxChatTyping($typing: Boolean!) { setVisitorTyping(typing: $typing) { __typename } }`;
const AGENT_TYPING = `subscription InboxChatAgentTyping { visitorTypingChanged { typing authorName expiresAt } }`;

export interface AgentTyping {
  typing: boolean;
  authorName: string | null;
  expiresAt: string;
}

/** A GraphQL error the widget reacts to: `code` UNAUTHENTICATED or NOT_FOUND means the stored chat is gone. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export function createApi(base: string) {
  const endpoint = `${base}/graphql`;

  async function call<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const res = token
      ? await fetch(endpoint, {
          method: "POST",
          credentials: "omit",
          headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        })
      : // Without a token, a GET query needs no CORS preflight: the launcher appears one round trip sooner.
        query.startsWith("query")
        ? await fetch(`${endpoint}?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}`, { credentials: "omit", headers: { accept: "application/json" } })
        : await fetch(endpoint, { method: "POST", credentials: "omit", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as GraphQLResponse<T>;
    if (body.errors?.length) throw new ApiError(body.errors[0].message, body.errors[0].extensions?.code);
    if (!body.data) throw new ApiError(`HTTP ${res.status}`);
    return body.data;
  }

  /** Throws the payload's error when a mutation answered with an error type. */
  function unwrap<T extends { __typename: string; errorMessage?: string }>(payload: T, ok: string): T {
    if (payload.__typename !== ok) throw new ApiError(payload.errorMessage ?? payload.__typename, payload.__typename);
    return payload;
  }

  return {
    config: (channelId: string, token?: string) => call<{ chatWidget: WidgetConfig | null }>(CONFIG, { channelId }, token).then((d) => d.chatWidget),
    start: async (input: { channelId: string; consent?: boolean; chatflowId?: string }) =>
      unwrap((await call<{ startChat: { __typename: string; errorMessage?: string; visitorToken: string; conversationId: string } }>(START, { input })).startChat, "StartChatResult"),
    /** Uploads one file for the visitor's next message; returns its upload token. */
    async upload(token: string, file: File): Promise<string> {
      const res = await fetch(`${base}/widget/uploads`, {
        method: "POST",
        credentials: "omit",
        headers: { authorization: `Bearer ${token}`, "content-type": file.type || "application/octet-stream", "x-filename": encodeURIComponent(file.name) },
        body: file,
      });
      const body = (await res.json().catch(() => ({}))) as { upload?: string; reason?: string; error?: string };
      if (res.status === 413) throw new ApiError(`${file.name} is too large to send`);
      if (!res.ok || !body.upload) throw new ApiError(body.reason ?? body.error ?? `HTTP ${res.status}`);
      return body.upload;
    },
    send: async (token: string, input: { text: string; clientMessageId: string; attachments?: string[] }) =>
      unwrap((await call<{ sendVisitorMessage: { __typename: string; errorMessage?: string; sentMessage: ChatMessage } }>(SEND, { input }, token)).sendVisitorMessage, "SendVisitorMessageResult").sentMessage,
    end: async (token: string, transcriptEmail?: string) =>
      unwrap((await call<{ endChat: { __typename: string; errorMessage?: string; transcriptSentTo: string | null } }>(END, { input: { transcriptEmail } }, token)).endChat, "EndChatResult").transcriptSentTo,
    history: (token: string) =>
      call<{ visitorConversation: { id: string; status: string; eventCursor: string; messages: ChatMessage[] } }>(HISTORY, {}, token).then((d) => d.visitorConversation),

    /**
     * The agents' replies, live over SSE, from `after` on. Calls `onMessage` for each; resolves
     * when the stream ends (server restart, network change) and rejects on an API error, so the
     * caller resubscribes with the last cursor it saw.
     */
    live: (token: string, after: string | null, onMessage: (m: ChatMessage) => void, signal: AbortSignal) =>
      stream<{ visitorMessageAdded: ChatMessage }>(LIVE, { after }, token, (d) => onMessage(d.visitorMessageAdded), signal),

    /** Tells the agents the visitor is typing (or stopped). */
    typing: (token: string, typing: boolean) => call(TYPING, { typing }, token).then(() => undefined),

    /** Agents starting and stopping to type a reply, live over SSE; resolves when the stream ends. */
    agentTyping: (token: string, onTyping: (t: AgentTyping) => void, signal: AbortSignal) =>
      stream<{ visitorTypingChanged: AgentTyping }>(AGENT_TYPING, {}, token, (d) => onTyping(d.visitorTypingChanged), signal),

    /** The channel's settings each time an admin changes them; `onOpen` once the stream is established. */
    changes: (channelId: string, onChange: (config: WidgetConfig | null) => void, onOpen: () => void, signal: AbortSignal) =>
      stream<{ chatWidgetChanged: WidgetConfig | null }>(CHANGES, { channelId }, undefined, (d) => onChange(d.chatWidgetChanged), signal, onOpen),
  };

  /** A subscription over SSE (POST, `accept: text/event-stream`), read from the fetch body. */
  async function stream<T>(query: string, variables: Record<string, unknown>, token: string | undefined, onData: (data: T) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    const res = await fetch(endpoint, {
      method: "POST",
      credentials: "omit",
      signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    if (!res.ok || !res.body) throw new ApiError(`HTTP ${res.status}`);
    onOpen?.();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (!data) continue;
        const result = JSON.parse(data) as GraphQLResponse<T>;
        if (result.errors?.length) throw new ApiError(result.errors[0].message, result.errors[0].extensions?.code);
        if (result.data) onData(result.data);
      }
    }
  }
}

export type Api = ReturnType<typeof createApi>;
