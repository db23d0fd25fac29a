import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChConnectDocument, ConvDetailDocument, ConvPublishDocument, ConvReplyDocument, type PublishInboundMessageInput } from "./generated/graphql.js";
import { fromGlobalId, toGlobalId } from "../src/schema/ids.js";
import { sanitizeRichText } from "../src/services/rich-text.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";
import { createChannel, createInbox, createPartnerApp, externalId } from "./support/conversation-fixtures.js";

const LINK = 'target="_blank" rel="noopener noreferrer nofollow"';
/** What no stored rich text may contain, whatever came in. */
const DANGEROUS = /<\s*\/?\s*(script|style|iframe|object|embed|form|input|button|meta|link|base|svg|math)\b|\son\w+\s*=|javascript:|vbscript:|data:/i;

describe("sanitizeRichText", () => {
  const hostile: [string, string, string | null][] = [
    ["a script (text and all)", "<p>Hi</p><script>alert(1)</script>", "<p>Hi</p>"],
    ["only a script", "<script>alert(document.cookie)</script>", null],
    ["an image with an event handler and a relative src", "<img src=x onerror=alert(1)>", null],
    ["an event handler on an allowed tag", '<b onclick="alert(1)" onmouseover=alert(2)>bold</b>', "<b>bold</b>"],
    ["a javascript: link", '<a href="javascript:alert(1)">x</a>', "<a>x</a>"],
    ["a mixed-case javascript: link", '<a href="JaVaScRiPt:alert(1)">x</a>', "<a>x</a>"],
    ["an entity-encoded colon", '<a href="javascript&colon;alert(1)">x</a>', "<a>x</a>"],
    ["an entity-encoded scheme", '<a href="&#106;&#x61;vascript:alert(1)">x</a>', "<a>x</a>"],
    ["a tab and a leading space inside the scheme", '<a href=" java\tscript:alert(1)">x</a>', "<a>x</a>"],
    ["a vbscript: link", '<a href="vbscript:msgbox(1)">x</a>', "<a>x</a>"],
    ["a data: link", '<a href="data:text/html,<script>alert(1)</script>">x</a>', "<a>x</a>"],
    ["relative and protocol-relative links", '<a href="/logout">a</a><a href="//evil.test/">b</a>', "<a>a</a><a>b</a>"],
    ["an iframe with fallback text", '<iframe src="https://evil.test/">fallback</iframe><p>ok</p>', "<p>ok</p>"],
    ["an svg with onload", "<svg onload=alert(1)><text>drawn</text></svg><p>ok</p>", "<p>ok</p>"],
    ["a style element", "<style>body { display: none }</style><p>ok</p>", "<p>ok</p>"],
    ["a form (its text kept, its controls gone)", '<form action="https://evil.test/"><input name="pw"><button>Log in</button></form>', "Log in"],
    ["a data: image", '<img src="data:image/png;base64,iVBORw0KGgo=">', null],
    ["an image srcset", '<img src="https://cdn.test/a.png" srcset="javascript:alert(1) 2x">', '<img src="https://cdn.test/a.png" />'],
    ["object, embed, meta, link and base", '<object data="x">o</object><embed src="x"><meta http-equiv="refresh" content="0;url=https://evil.test"><link rel="stylesheet" href="x"><base href="https://evil.test/"><p>ok</p>', "<p>ok</p>"],
    ["a script split by a nested tag", "<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"],
    ["a closing tag split by a nested script", "<<script>script>alert(1)<</script>/script>", "&lt;/script&gt;"],
    ["mutation XSS through math and style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", null],
    ["markup hidden in a noscript attribute", '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', null],
    ["unsafe and unknown styles", '<p style="color: red; position: fixed; background-image: url(javascript:alert(1)); width: expression(alert(1))">p</p>', '<p style="color:red">p</p>'],
    ["an expression() colour", '<span style="color: expression(alert(1))">s</span>', "<span>s</span>"],
    ["id and class attributes", '<p id="login" class="app-button">p</p>', "<p>p</p>"],
    ["only invisible markup", "<div><p>&nbsp;</p><br></div>", null],
  ];

  test.each(hostile)("removes %s", (_name, input, expected) => {
    expect(sanitizeRichText(input)).toBe(expected);
  });

  const benign: [string, string, string][] = [
    ["links, with target and rel forced", '<a href="https://shop.test/o?id=1&amp;x=2" target="_self" rel="opener">order</a>', `<a href="https://shop.test/o?id=1&amp;x=2" ${LINK}>order</a>`],
    ["mailto and tel links", '<a href="mailto:help@shop.test">mail</a> <a href="tel:+390212345">call</a>', `<a href="mailto:help@shop.test" ${LINK}>mail</a> <a href="tel:+390212345" ${LINK}>call</a>`],
    ["lists", '<ul><li>one</li></ul><ol start="3"><li>three</li></ol>', '<ul><li>one</li></ul><ol start="3"><li>three</li></ol>'],
    ["tables", '<table border="1"><caption>Order</caption><thead><tr><th scope="col">Item</th></tr></thead><tbody><tr><td colspan="2" align="right">Mug</td></tr></tbody></table>', '<table border="1"><caption>Order</caption><thead><tr><th scope="col">Item</th></tr></thead><tbody><tr><td colspan="2" align="right">Mug</td></tr></tbody></table>'],
    ["text formatting and headings", "<h2>Hi</h2><p><strong>b</strong> <em>i</em> <u>u</u> <s>s</s> x<sup>2</sup> <code>c</code></p><blockquote>q</blockquote><hr>", "<h2>Hi</h2><p><strong>b</strong> <em>i</em> <u>u</u> <s>s</s> x<sup>2</sup> <code>c</code></p><blockquote>q</blockquote><hr />"],
    ["cid: and https images", '<img src="cid:logo@shop.test" alt="Logo" width="40" height="20"><img src="https://cdn.shop.test/a.png" title="A">', '<img src="cid:logo@shop.test" alt="Logo" width="40" height="20" /><img src="https://cdn.shop.test/a.png" title="A" />'],
    ["the allowed styles", '<p style="color: #336699; background-color: rgb(255, 255, 0); text-align: center; font-weight: bold; font-style: italic; text-decoration: underline">p</p>', '<p style="color:#336699;background-color:rgb(255, 255, 0);text-align:center;font-weight:bold;font-style:italic;text-decoration:underline">p</p>'],
    ["text of unknown harmless wrappers", "<font face=Arial><center>Thanks!</center></font>", "Thanks!"],
    ["plain text, escaped", "1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"],
  ];

  test.each(benign)("keeps %s", (_name, input, expected) => {
    expect(sanitizeRichText(input)).toBe(expected);
  });

  test("its output is stable and never contains a dangerous construct", () => {
    for (const [, input] of [...hostile, ...benign]) {
      const once = sanitizeRichText(input);
      if (once === null) continue;
      expect(once).not.toMatch(DANGEROUS);
      expect(sanitizeRichText(once)).toBe(once);
    }
  });
});

describe("rich text through the API", () => {
  let t: TestServer;
  let a: TestAccount;
  let inboxId: string;

  beforeAll(async () => {
    t = await startTestServer({ DELIVERY_WORKER: "false" });
    a = await createTestAccount(t.prisma, { name: "Rich Text" });
    inboxId = (await createInbox(t.prisma, a.accountId, { userIds: [a.agent.id] })).id;
  });
  afterAll(async () => t?.close());

  /** The messages of a conversation as the inbox's agent reads them. */
  async function agentReads(conversationId: string) {
    const { node } = await t.client(await t.tokenFor(a.agent)).request(ConvDetailDocument, { id: conversationId });
    if (node?.__typename !== "Conversation") throw new Error(`no conversation: ${JSON.stringify(node)}`);
    return node.messages.edges.map((e) => e.node);
  }

  describe("a partner's publishInboundMessage", () => {
    let partnerToken: string;
    let channelId: string;
    const publish = (input: Partial<PublishInboundMessageInput>) =>
      t.client(partnerToken).request(ConvPublishDocument, { input: { channelId, externalId: externalId("rt"), sender: { name: "Mallory", email: "mallory@example.test" }, ...input } });

    beforeAll(async () => {
      const partner = await createPartnerApp(t.prisma, t.server.services.auth, { capabilities: { richText: true } });
      partnerToken = partner.token;
      channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId, channelAppId: partner.app.id })).id);
    });

    test("hostile HTML is stored and served without its dangerous parts, the benign ones kept", async () => {
      const r = await publish({
        text: "Order 5521",
        richText:
          '<p onclick="steal()">My <b>order</b> <script>alert(1)</script></p>' +
          '<a href="javascript:alert(2)">bad</a> <a href="https://shop.test/o/5521">good</a>' +
          '<img src=x onerror=alert(3)><img src="cid:photo@example.test" alt="photo">' +
          '<iframe src="https://evil.test/"></iframe><ul><li>one</li></ul><table><tr><td>cell</td></tr></table>',
      });
      if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
      const expected =
        `<p>My <b>order</b> </p><a>bad</a> <a href="https://shop.test/o/5521" ${LINK}>good</a>` +
        '<img src="cid:photo@example.test" alt="photo" /><ul><li>one</li></ul><table><tr><td>cell</td></tr></table>';
      expect(r.publishInboundMessage.inboundMessage.richText).toBe(expected);
      const [message] = await agentReads(r.publishInboundMessage.conversationId);
      expect(message).toMatchObject({ text: "Order 5521", richText: expected });
      const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(message.id, "Message") } });
      expect(stored.richText).toBe(expected);
    });

    test("rich text that sanitizes to nothing, with no text or attachment, is the usual ValidationError and stores nothing", async () => {
      const ext = externalId("empty");
      const r = await publish({ externalId: ext, text: null, richText: "<script>alert(1)</script><style>p{}</style>" });
      expect(r.publishInboundMessage).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "text"], message: "A message needs text, rich text or an attachment" }] });
      expect(await t.prisma.message.count({ where: { externalId: ext } })).toBe(0);
    });

    test("with text beside it, rich text that sanitizes to nothing is stored as none", async () => {
      const r = await publish({ text: "Just text", richText: "<img src=x onerror=alert(1)>" });
      if (r.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(r.publishInboundMessage));
      expect(r.publishInboundMessage.inboundMessage).toMatchObject({ text: "Just text", richText: null });
    });
  });

  test("an agent's reply keeps only the allowlist, as stored and as sent", async () => {
    const partner = await createPartnerApp(t.prisma, t.server.services.auth, { capabilities: { richText: true } });
    const channelId = toGlobalId("Channel", (await createChannel(t.prisma, { accountId: a.accountId, inboxId, channelAppId: partner.app.id })).id);
    const inbound = await t.client(partner.token).request(ConvPublishDocument, { input: { channelId, externalId: externalId("in"), sender: { name: "Ann" }, text: "Hello" } });
    if (inbound.publishInboundMessage.__typename !== "PublishInboundMessageResult") throw new Error(JSON.stringify(inbound.publishInboundMessage));
    const r = await t.client(await t.tokenFor(a.agent)).request(ConvReplyDocument, {
      input: { conversationId: inbound.publishInboundMessage.conversationId, richText: '<p>Hi <b>Ann</b><img src=x onerror=alert(1)></p><a href="javascript:alert(2)">x</a><script>alert(3)</script>' },
    });
    if (r.reply.__typename !== "MessageResult") throw new Error(JSON.stringify(r.reply));
    expect(r.reply.sentMessage.richText).toBe("<p>Hi <b>Ann</b></p><a>x</a>");
    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: fromGlobalId(r.reply.sentMessage.id, "Message") } });
    expect(stored.richText).toBe("<p>Hi <b>Ann</b></p><a>x</a>");
  });

  describe("an inbound HTML email", () => {
    test("its HTML body is stored and served without its dangerous parts, the benign ones kept", async () => {
      const connected = await t.client(await t.tokenFor(a.admin)).request(ChConnectDocument, {
        input: { inboxId: toGlobalId("Inbox", inboxId), name: "Support mail", teamEmail: { address: `support-${externalId()}@acme.test` } },
      });
      if (connected.connectChannel.__typename !== "ConnectChannelResult" || !connected.connectChannel.inboundEmailSecret) throw new Error(JSON.stringify(connected.connectChannel));
      const res = await fetch(new URL(`/inbound/email/${connected.connectChannel.channel.id}`, t.url), {
        method: "POST",
        headers: { "content-type": "message/rfc822", authorization: `Bearer ${connected.connectChannel.inboundEmailSecret}` },
        body: new Uint8Array(await readFile(new URL("./fixtures/email/hostile-html.eml", import.meta.url))),
      });
      expect(res.status).toBe(202);
      const { conversationId } = await res.json();

      const [message] = await agentReads(conversationId);
      const html = message.richText ?? "";
      expect(message.text).toBe("Hello, my order 5521 has not arrived.");
      expect(html).not.toMatch(DANGEROUS);
      for (const gone of ["evil.test", "alert", "document.cookie", "display: none", "position", "frame fallback", "svg text", "password", "<title>", "Order</"]) expect(html).not.toContain(gone);
      expect(html).toContain('<p style="color:#c00">Hello, my <b>order 5521</b> has <i>not</i> arrived.</p>');
      expect(html).toContain(`<a href="https://carrier.test/track?id=5521&amp;lang=en" ${LINK}>carrier page</a>`);
      expect(html).toContain("<li><a>click me</a></li>");
      expect(html).toContain("<li><a>or me</a></li>");
      expect(html).toContain('<table border="1"><tr><th>Item</th><td>Blue mug</td></tr></table>');
      expect(html).toContain('<img src="cid:logo@customer.test" alt="Shop logo" />');
      expect(html.match(/<img/g)).toHaveLength(1);
      expect(html).toContain("Log in again");
      expect(message.attachments).toMatchObject([{ kind: "IMAGE", name: "logo.png", mimeType: "image/png" }]);
    });
  });
});
