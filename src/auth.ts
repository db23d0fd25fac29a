import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Config } from "./config.js";
import { UnauthenticatedError } from "./services/errors.js";
import { isStorableText } from "./services/storable.js";

/** What a verified token says about its bearer. */
export type TokenClaims =
  | { typ: "agent"; userId: string; accountId: string; expiresAt?: number }
  | { typ: "partner"; partnerId: string; expiresAt?: number }
  | { typ: "visitor"; conversationId: string; accountId: string; channelId: string; expiresAt?: number };

export interface Auth {
  /** Verifies a bearer token. Throws UnauthenticatedError for any bad token; rethrows infrastructure failures. */
  verify(token: string): Promise<TokenClaims>;
  /** Signs a token (HS256). Only available when the server holds the secret (not with JWKS). */
  sign(claims: TokenClaims, opts?: { expiresIn?: string | number }): Promise<string>;
}

const HS_ALG = "HS256";
const ASYMMETRIC_ALGS = ["RS256", "ES256", "EdDSA", "PS256"];

/** Reads the dev secret from dataDir, generating it on first use so tokens survive restarts. */
export async function loadOrCreateDevSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "jwt-secret");
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}

/** An id claim the database can look up: text without NUL or unpaired surrogates, of a sane length. */
function isIdClaim(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 200 && isStorableText(value);
}

function claimsFromPayload(payload: JWTPayload): TokenClaims {
  const typ = payload.typ ?? "agent";
  const sub = payload.sub;
  if (!sub) throw new UnauthenticatedError("Token has no subject");
  // A well-signed token may still carry ids no row can have (NUL failed in PostgreSQL: a 500).
  if (!isIdClaim(sub)) throw new UnauthenticatedError('Token claim "sub" is invalid');
  for (const claim of ["acc", "chn"] as const) {
    if (payload[claim] !== undefined && !isIdClaim(payload[claim])) throw new UnauthenticatedError(`Token claim "${claim}" is invalid`);
  }
  const exp = payload.exp;
  if (typ === "agent" && typeof payload.acc === "string") return { typ, userId: sub, accountId: payload.acc, expiresAt: exp };
  if (typ === "partner") return { typ, partnerId: sub, expiresAt: exp };
  if (typ === "visitor" && typeof payload.acc === "string" && typeof payload.chn === "string")
    return { typ, conversationId: sub, accountId: payload.acc, channelId: payload.chn, expiresAt: exp };
  throw new UnauthenticatedError("Token has an unknown shape");
}

function toPayload(claims: TokenClaims): JWTPayload & { sub: string } {
  switch (claims.typ) {
    case "agent":
      return { typ: "agent", sub: claims.userId, acc: claims.accountId };
    case "partner":
      return { typ: "partner", sub: claims.partnerId };
    case "visitor":
      return { typ: "visitor", sub: claims.conversationId, acc: claims.accountId, chn: claims.channelId };
  }
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "Token has expired";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "Token signature is invalid";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "Token algorithm is not allowed";
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `Token claim "${err.claim}" is invalid`;
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "Token was signed by an unknown key";
  return "Token is malformed";
}

/**
 * Tokens verified recently, with their claims: a partner or agent sends the same token with every
 * request, and checking its signature each time cost ~0.5 ms of CPU per request here. A token is
 * remembered until it expires but at most a minute (so a key dropped from the JWKS stops being
 * honoured within a minute), and at most MAX_ENTRIES tokens are (the oldest go first).
 */
class VerifiedTokens {
  private static readonly MAX_ENTRIES = 10_000;
  private static readonly MAX_AGE_MS = 60_000;
  private readonly entries = new Map<string, { claims: TokenClaims; until: number }>();

  get(token: string): TokenClaims | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (Date.now() < entry.until) return entry.claims;
    this.entries.delete(token);
    return undefined;
  }

  add(token: string, claims: TokenClaims) {
    const expires = claims.expiresAt === undefined ? Infinity : claims.expiresAt * 1000;
    if (this.entries.size >= VerifiedTokens.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, until: Math.min(expires, Date.now() + VerifiedTokens.MAX_AGE_MS) });
  }
}

/** Builds the token verifier for the configured key source (secret, JWKS or a generated dev secret). */
export async function createAuth(config: Config): Promise<Auth> {
  const { issuer, audience } = config.jwt;
  const secretText = config.jwt.jwksUrl ? config.jwt.secret : (config.jwt.secret ?? (await loadOrCreateDevSecret(config.dataDir)));
  const secret = secretText ? new TextEncoder().encode(secretText) : undefined;
  const jwks = config.jwt.jwksUrl ? createRemoteJWKSet(new URL(config.jwt.jwksUrl)) : undefined;

  const verified = new VerifiedTokens();

  return {
    async verify(token) {
      const known = verified.get(token);
      if (known) return known;
      try {
        const { payload } = jwks
          ? await jwtVerify(token, jwks, { issuer, audience, algorithms: ASYMMETRIC_ALGS, requiredClaims: ["exp", "sub"] })
          : await jwtVerify(token, secret!, { issuer, audience, algorithms: [HS_ALG], requiredClaims: ["exp", "sub"] });
        const claims = claimsFromPayload(payload);
        verified.add(token, claims);
        return claims;
      } catch (err) {
        if (err instanceof UnauthenticatedError) throw err;
        if (err instanceof joseErrors.JOSEError && !(err instanceof joseErrors.JWKSTimeout)) throw new UnauthenticatedError(describe(err));
        throw err;
      }
    },
    async sign(claims, opts = {}) {
      if (!secret) throw new Error("This server verifies tokens with JWKS and cannot sign them");
      return new SignJWT(toPayload(claims))
        .setProtectedHeader({ alg: HS_ALG })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? "30d")
        .sign(secret);
    },
  };
}
