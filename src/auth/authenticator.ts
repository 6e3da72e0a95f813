import { createHash, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Principal } from "./principal";
import { allScopes } from "./scopes";

export interface ApiKeyEntry {
  /** sha256 of the key: keys are compared as digests, in constant time, and may be configured as digests. */
  digest: Buffer;
  label: string;
  scopes: ReadonlySet<string>;
  /** The key itself when configured in clear, so logs can redact it; absent for `sha256:` entries. */
  clear?: string;
  /** `key@a+b`: the tenants the key may see ("*": every one); absent: the key names none (see visibleTenants). */
  tenants?: readonly string[] | "*";
}

export interface AuthOptions {
  apiKeys: ApiKeyEntry[];
  jwt?: {
    secret?: Uint8Array;
    jwksUrl?: URL;
    issuer: string;
    audience: string;
    clockToleranceSec: number;
    /**
     * The longest a token may be valid: `iat` at most this far in the past, `exp` at most this far in the
     * future, and `exp − iat` at most this (AUTH_JWT_MAX_AGE_SECONDS). `exp` and `iat` are required.
     */
    maxAgeSec: number;
  };
}

/** Why a request was turned away: goes into the 401 body and the WWW-Authenticate header. */
export interface AuthFailure {
  error: "invalid_request" | "invalid_token";
  description: string;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Authenticates a GraphQL caller from `Authorization: Bearer …` or `x-api-key`: an API key (compared as a
 * sha256 digest in constant time against every configured key) or a JWT (verified with jose against a
 * JWKS URL or a shared secret, checking issuer, audience, expiry and not-before with a clock tolerance).
 */
export class Authenticator {
  private readonly jwks?: JWTVerifyGetKey;

  constructor(private readonly options: AuthOptions) {
    if (options.jwt?.jwksUrl) this.jwks = createRemoteJWKSet(options.jwt.jwksUrl);
  }

  get enabled(): boolean {
    return this.options.apiKeys.length > 0 || this.options.jwt !== undefined;
  }

  async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Principal | AuthFailure> {
    const apiKeyHeader = single(headers["x-api-key"]);
    const authorization = single(headers.authorization);
    let presented: string | undefined;
    if (authorization !== undefined) {
      const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
      if (!m) return { error: "invalid_request", description: "the Authorization header must be 'Bearer <token or API key>'" };
      presented = m[1]!;
    } else if (apiKeyHeader !== undefined) {
      presented = apiKeyHeader.trim();
    }
    if (presented === undefined || presented === "") {
      return { error: "invalid_request", description: "credentials required: send 'Authorization: Bearer <token>' or 'x-api-key: <key>'" };
    }

    const key = this.matchApiKey(presented);
    if (key) return { kind: "api-key", subject: key.label, scopes: key.scopes, tenants: key.tenants };
    if (this.options.jwt && apiKeyHeader === undefined && JWT_SHAPE.test(presented)) return this.verifyJwt(presented);
    return { error: "invalid_token", description: this.options.jwt ? "the token or API key is not valid" : "the API key is not valid" };
  }

  private matchApiKey(presented: string): ApiKeyEntry | undefined {
    const digest = createHash("sha256").update(presented).digest();
    let found: ApiKeyEntry | undefined;
    // Compare against every key, so the time taken says nothing about which (if any) matched.
    for (const entry of this.options.apiKeys) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry;
    }
    return found;
  }

  private async verifyJwt(token: string): Promise<Principal | AuthFailure> {
    const jwt = this.options.jwt!;
    try {
      // jose checks presence (requiredClaims; maxTokenAge adds `iat`), exp, nbf, and iat neither older than
      // maxTokenAge nor in the future beyond the tolerance. What jose has no option for is checked below.
      const verifyOptions = {
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockTolerance: jwt.clockToleranceSec,
        requiredClaims: ["exp", "iat"],
        maxTokenAge: jwt.maxAgeSec,
      };
      const { payload } = jwt.secret
        ? await jwtVerify(token, jwt.secret, { ...verifyOptions, algorithms: ["HS256", "HS384", "HS512"] })
        : await jwtVerify(token, this.jwks!, {
            ...verifyOptions,
            algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
          });
      const exp = payload.exp!;
      const iat = payload.iat!;
      const now = Math.floor(Date.now() / 1000);
      if (exp - now > jwt.maxAgeSec + jwt.clockToleranceSec) {
        return {
          error: "invalid_token",
          description: `the token's exp claim is more than ${jwt.maxAgeSec} s ahead (AUTH_JWT_MAX_AGE_SECONDS)`,
        };
      }
      if (exp - iat > jwt.maxAgeSec) {
        return {
          error: "invalid_token",
          description: `the token's lifetime (exp - iat) is longer than ${jwt.maxAgeSec} s (AUTH_JWT_MAX_AGE_SECONDS)`,
        };
      }
      const scopes = scopesOf(payload);
      if (scopes.size === 0) {
        return {
          error: "invalid_token",
          description: `the token grants none of usergraph's scopes (${allScopes().join(", ")}) in scp, scope or roles`,
        };
      }
      const tenants = tenantsClaim(payload.tenants);
      if (tenants === null) {
        return { error: "invalid_token", description: 'the token\'s tenants claim must be an array of tenant ids or "*"' };
      }
      return { kind: "jwt", subject: typeof payload.sub === "string" ? payload.sub : "(no sub)", scopes, tenants };
    } catch (err) {
      return { error: "invalid_token", description: describeJwtError(err) };
    }
  }
}

/** Scopes from `scp` / `scope` (space-separated) and `roles` (Entra app roles), keeping only usergraph's. */
function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const granted = new Set<string>();
  for (const claim of [payload.scp, payload.scope]) if (typeof claim === "string") claim.split(/\s+/).forEach((s) => granted.add(s));
  for (const claim of [payload.scp, payload.roles]) if (Array.isArray(claim)) claim.forEach((s) => typeof s === "string" && granted.add(s));
  return new Set(allScopes().filter((s) => granted.has(s)));
}

/**
 * The `tenants` claim: an array of ids, or "*"; absent: none named. Anything else (a string of ids, a
 * number) is null, and the token is refused: a claim that was meant to narrow must not be read as absent.
 */
function tenantsClaim(claim: unknown): readonly string[] | "*" | undefined | null {
  if (claim === undefined) return undefined;
  if (claim === "*") return "*";
  if (Array.isArray(claim) && claim.every((id) => typeof id === "string")) return claim as string[];
  return null;
}

function describeJwtError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) {
    return err.claim === "iat" ? "the token was issued longer ago than AUTH_JWT_MAX_AGE_SECONDS allows" : "the token has expired";
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return `the token has no ${err.claim} claim, which is required`;
    if (err.claim === "iat" && err.reason === "check_failed") return "the token's iat claim is in the future";
    return `the token's ${err.claim} claim is not accepted`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no key in the JWKS matches the token";
  if (err instanceof joseErrors.JWKSTimeout || (err instanceof joseErrors.JOSEError && err.code === "ERR_JWKS_INVALID"))
    return "the JWKS could not be read";
  return "the token is malformed";
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Parses AUTH_API_KEYS: comma-separated entries, each a key or `sha256:<64 hex>`, optionally followed by
 * `@tenant+tenant` (or `@*`: every tenant; default: none named, see visibleTenants), then optionally by
 * `=scope+scope` (default: every scope). Returns entries or a problem message; config.ts checks the
 * tenants against TENANTS_FILE. A key that itself ends in `@` and tenant-id characters must be
 * configured as its `sha256:` digest.
 */
export function parseApiKeys(spec: string): ApiKeyEntry[] | string {
  const entries: ApiKeyEntry[] = [];
  const parts = spec
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const [i, part] of parts.entries()) {
    const m = /^(.*?)=((?:[a-z]+:users:read)(?:\+[a-z]+:users:read)*)$/.exec(part);
    const withTenants = m ? m[1]! : part;
    // Tenant ids are lower-case letters, digits and hyphens (src/tenants-file.ts): `+` and `*` never occur in one.
    const t = /^(.+)@(\*|[a-z0-9-]+(?:\+[a-z0-9-]+)*)$/.exec(withTenants);
    const keyPart = t ? t[1]! : withTenants;
    const tenants = t ? (t[2] === "*" ? "*" : t[2]!.split("+")) : undefined;
    const known = allScopes();
    const scopes = m ? m[2]!.split("+") : known;
    const unknown = scopes.filter((s) => !known.includes(s));
    if (unknown.length > 0) return `entry ${i + 1} names unknown scopes ${unknown.join(", ")} (known: ${allScopes().join(", ")})`;
    let digest: Buffer;
    const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(keyPart);
    if (hashed) digest = Buffer.from(hashed[1]!, "hex");
    else if (keyPart.length < 16) return `entry ${i + 1} is shorter than 16 characters; use a long random key`;
    else digest = createHash("sha256").update(keyPart).digest();
    entries.push({ digest, label: `key#${i + 1}`, scopes: new Set(scopes), clear: hashed ? undefined : keyPart, tenants });
  }
  return entries;
}
