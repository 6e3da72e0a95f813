import type Redis from "ioredis";
import type { SourceName } from "../upstream/source";
import { UpstreamError, type UpstreamErrorKind } from "../upstream/upstream-error";
import type { RedisLink } from "./redis-link";

/**
 * One cached outcome as stored in Redis: `s` stored at, `f` fresh until, `k` kept until (fresh plus the
 * stale-if-error window), `t` the token of the flight that wrote it, `v` the entity or null (a 404).
 * Times are epoch ms of the writing replica.
 */
export interface SharedEntry {
  s: number;
  f: number;
  k: number;
  t: string;
  v: unknown;
}

/** A failed flight, kept a moment so replicas that waited for it get the same answer instead of calling again. */
interface SharedFailure {
  t: string;
  source: SourceName;
  kind: UpstreamErrorKind;
  message: string;
  status?: number;
  upstreamCode?: string;
  upstreamRequestId?: string;
  retryAfter?: number;
}

/** What a waiting replica sees for one key while another replica's flight is (or was) under way. */
export interface FlightView {
  entry?: SharedEntry;
  failure?: Error & { flightToken: string };
  /** The token of whoever holds the key's flight now; undefined when nobody does. */
  holder?: string;
}

/** Compare-and-delete: a flight only ever clears its own claim (a late leader must not clear a newer one). */
const RELEASE_CLAIMS = `for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1`;

/** Compare-and-extend: a live flight renews its own claims' lease, never another flight's. */
const RENEW_CLAIMS = `for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1`;

interface ClaimCommands {
  ugReleaseClaims(numKeys: number, ...args: string[]): Promise<number>;
  ugRenewClaims(numKeys: number, ...args: string[]): Promise<number>;
}

/**
 * The Redis half of an entity store: entries (serialised once, as written), flight claims for
 * cross-replica single flight, and short-lived failure records. Every method may throw when Redis fails;
 * the store then carries on in process.
 */
export class SharedEntities {
  private readonly client: Redis & ClaimCommands;
  private readonly entryPrefix: string;
  private readonly claimPrefix: string;
  private readonly failurePrefix: string;

  constructor(
    private readonly link: RedisLink,
    /** The store's key prefix: source plus a fingerprint of the credentials. */
    namespace: string,
    private readonly source: SourceName,
  ) {
    this.client = link.client as Redis & ClaimCommands;
    if ((this.client as Partial<ClaimCommands>).ugReleaseClaims === undefined) {
      link.client.defineCommand("ugReleaseClaims", { lua: RELEASE_CLAIMS });
    }
    if ((this.client as Partial<ClaimCommands>).ugRenewClaims === undefined) {
      link.client.defineCommand("ugRenewClaims", { lua: RENEW_CLAIMS });
    }
    this.entryPrefix = `${link.prefix}e:${namespace}`;
    this.claimPrefix = `${link.prefix}l:${namespace}`;
    this.failurePrefix = `${link.prefix}x:${namespace}`;
  }

  get available(): boolean {
    return this.link.available;
  }

  newToken(): string {
    return `${this.link.replicaId}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 10)}`;
  }

  noteFailure(what: string, err: unknown): void {
    this.link.noteFailure(what, err);
  }

  async read(keys: readonly string[]): Promise<Array<SharedEntry | undefined>> {
    const raw = await this.client.mget(keys.map((k) => this.entryPrefix + k));
    return raw.map(parseEntry);
  }

  /** Extends the lease of this flight's own claims (keys another flight holds are left alone). */
  async renew(keys: readonly string[], token: string, ttlMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.client.ugRenewClaims(keys.length, ...keys.map((k) => this.claimPrefix + k), token, String(Math.max(1, Math.ceil(ttlMs))));
  }

  /**
   * Claims each key's flight for `token` unless another flight holds it. Returns the holder per key: the
   * token itself where the claim succeeded. One MULTI round trip for any number of keys.
   */
  async claim(keys: readonly string[], token: string, ttlMs: number): Promise<string[]> {
    const multi = this.client.multi();
    for (const key of keys) {
      multi.set(this.claimPrefix + key, token, "PX", Math.max(1, Math.ceil(ttlMs)), "NX");
      multi.get(this.claimPrefix + key);
    }
    const replies = (await multi.exec()) ?? [];
    return keys.map((_, i) => {
      const [err, holder] = replies[2 * i + 1] ?? [new Error("no reply"), null];
      if (err) throw err;
      return (holder as string | null) ?? "";
    });
  }

  /**
   * Writes a flight's outcomes (entries with their own TTLs, failures for `failureHoldMs`), then clears the
   * flight's claims, in one round trip: a waiter that sees the claim gone finds the outcome already there.
   */
  async publish(
    token: string,
    entries: ReadonlyArray<{ key: string; json: string; ttlMs: number }>,
    failures: ReadonlyArray<{ key: string; error: Error }>,
    failureHoldMs: number,
    claimed: readonly string[],
  ): Promise<void> {
    const pipeline = this.client.pipeline();
    for (const e of entries) pipeline.set(this.entryPrefix + e.key, e.json, "PX", Math.max(1, Math.ceil(e.ttlMs)));
    for (const f of failures)
      pipeline.set(this.failurePrefix + f.key, JSON.stringify(failureRecord(this.source, token, f.error)), "PX", failureHoldMs);
    if (claimed.length > 0)
      (pipeline as unknown as ClaimCommands).ugReleaseClaims(claimed.length, ...claimed.map((k) => this.claimPrefix + k), token);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** Entries, claim holders and failure records of `keys`, in one round trip. */
  async view(keys: readonly string[]): Promise<FlightView[]> {
    const pipeline = this.client.pipeline();
    pipeline.mget(keys.map((k) => this.entryPrefix + k));
    pipeline.mget(keys.map((k) => this.claimPrefix + k));
    pipeline.mget(keys.map((k) => this.failurePrefix + k));
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const [entries, holders, failures] = replies.map(([, v]) => v as Array<string | null>);
    return keys.map((_, i) => ({
      entry: parseEntry(entries![i] ?? null),
      holder: holders![i] ?? undefined,
      failure: parseFailure(failures![i] ?? null),
    }));
  }
}

/** Builds an entry's JSON around the value's JSON, so the value is serialised exactly once. */
export function entryJson(s: number, f: number, k: number, t: string, valueJson: string): string {
  return `{"s":${s},"f":${f},"k":${k},"t":${JSON.stringify(t)},"v":${valueJson}}`;
}

function parseEntry(raw: string | null): SharedEntry | undefined {
  if (raw === null) return undefined;
  try {
    const e = JSON.parse(raw) as SharedEntry;
    return typeof e.s === "number" && typeof e.f === "number" && typeof e.k === "number" && "v" in e ? e : undefined;
  } catch {
    return undefined;
  }
}

function failureRecord(source: SourceName, token: string, err: Error): SharedFailure {
  if (err instanceof UpstreamError) {
    return {
      t: token,
      source: err.source,
      kind: err.kind,
      message: err.message,
      status: err.status,
      upstreamCode: err.upstreamCode,
      upstreamRequestId: err.upstreamRequestId,
      retryAfter: err.retryAfter,
    };
  }
  // Not a vendor failure (a bug): other replicas get a masked error, never our internals.
  return { t: token, source, kind: "network", message: "another replica's lookup failed" };
}

function parseFailure(raw: string | null): (Error & { flightToken: string }) | undefined {
  if (raw === null) return undefined;
  try {
    const f = JSON.parse(raw) as SharedFailure;
    const err = new UpstreamError(f.source, f.kind, f.message, {
      status: f.status,
      upstreamCode: f.upstreamCode,
      upstreamRequestId: f.upstreamRequestId,
      retryAfter: f.retryAfter,
    }) as UpstreamError & { flightToken: string };
    err.flightToken = f.t;
    return err;
  } catch {
    return undefined;
  }
}
