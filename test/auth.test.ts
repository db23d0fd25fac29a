import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClientError } from "graphql-request";
import { ViewerDocument } from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

let t: TestServer;
let acc: TestAccount;
beforeAll(async () => {
  t = await startTestServer();
  acc = await createTestAccount(t.prisma);
});
afterAll(async () => t?.close());

function sign(opts: { secret?: string; alg?: string; audience?: string; issuer?: string; exp?: number | string; sub?: string } = {}) {
  return new SignJWT({ typ: "agent", acc: acc.agent.accountId })
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .setSubject(opts.sub ?? acc.agent.id)
    .setIssuer(opts.issuer ?? t.config.jwt.issuer)
    .setAudience(opts.audience ?? t.config.jwt.audience)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "1h")
    .sign(new TextEncoder().encode(opts.secret ?? t.config.jwt.secret!));
}

async function viewerError(token?: string) {
  try {
    await t.client(token).request(ViewerDocument);
  } catch (err) {
    if (err instanceof ClientError) return err.response.errors?.[0];
    throw err;
  }
  throw new Error("expected the request to fail");
}

describe("HTTP authentication", () => {
  test("a valid token reads the viewer", async () => {
    const data = await t.client(await sign()).request(ViewerDocument);
    expect(data.viewer.email).toBe(acc.agent.email);
  });

  test.each([
    ["missing", async () => undefined, "A valid access token is required"],
    ["expired", async () => sign({ exp: Math.floor(Date.now() / 1000) - 60 }), "Token has expired"],
    ["wrong signature", async () => sign({ secret: "another-secret-another-secret-another-secret" }), "Token signature is invalid"],
    ["wrong algorithm", async () => sign({ alg: "HS512" }), "Token algorithm is not allowed"],
    ["wrong audience", async () => sign({ audience: "someone-else" }), 'Token claim "aud" is invalid'],
    ["wrong issuer", async () => sign({ issuer: "evil" }), 'Token claim "iss" is invalid'],
    ["garbage", async () => "not-a-jwt", "Token is malformed"],
    ["unknown user", async () => sign({ sub: "00000000-0000-0000-0000-000000000000" }), "This user no longer exists"],
  ])("%s token gets the typed unauthenticated error", async (_name, token, message) => {
    const error = await viewerError(await token());
    expect(error?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(error?.message).toBe(message);
  });

  test("a token accepted before is refused once it expires (verified tokens are remembered only until they expire)", async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await sign({ exp });
    expect((await t.client(token).request(ViewerDocument)).viewer.email).toBe(acc.agent.email);
    expect((await t.client(token).request(ViewerDocument)).viewer.email).toBe(acc.agent.email);
    await new Promise((r) => setTimeout(r, exp * 1000 + 50 - Date.now()));
    const error = await viewerError(token);
    expect(error?.message).toBe("Token has expired");
  });

  test("an unsigned (alg none) token is refused", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ sub: acc.agent.id, acc: acc.accountId, typ: "agent", aud: t.config.jwt.audience, iss: t.config.jwt.issuer, exp: 9999999999 })).toString("base64url");
    const error = await viewerError(`${header}.${payload}.`);
    expect(error?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  test("a removed user's token stops working", async () => {
    const token = await t.tokenFor(acc.admin);
    await t.prisma.user.update({ where: { id: acc.admin.id }, data: { removedAt: new Date() } });
    const error = await viewerError(token);
    expect(error?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("WebSocket authentication", () => {
  test("connection_init with a valid token is acknowledged and runs operations", async () => {
    const client = t.ws(await t.tokenFor(acc.agent));
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: "{ viewer { email } }" }, { next: resolve, error: reject, complete: () => {} });
    });
    expect(result).toEqual({ data: { viewer: { email: acc.agent.email } } });
  });

  test("connection_init with a bad token is closed with 4403", async () => {
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      t.ws("Bearer.invalid.token", { on: { closed: (event) => resolve(event as { code: number; reason: string }) } });
    });
    expect((await closed).code).toBe(4403);
  });

  test("connection_init with an expired token is closed with 4403", async () => {
    const token = await sign({ exp: Math.floor(Date.now() / 1000) - 5 });
    const closed = new Promise<{ code: number }>((resolve) => {
      t.ws(token, { on: { closed: (event) => resolve(event as { code: number }) } });
    });
    expect((await closed).code).toBe(4403);
  });
});
