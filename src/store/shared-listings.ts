import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type Redis from "ioredis";
import type { RedisLink } from "./redis-link";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** A listing as replicas share it: when it was read, until when it is served as is, and its wire form. */
export interface SharedListing {
  listedAt: number;
  freshUntil: number;
  payload: unknown;
}

/** Compare-and-delete: a lister only ever clears its own claim. */
const RELEASE_LISTING = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Compare-and-extend: a live lister renews its own claim's lease, never another's. */
const RENEW_LISTING = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** A claim is a short lease its holder renews while it lists: a replica that dies mid-listing frees it within this. */
export const LISTING_CLAIM_LEASE_MS = 2_000;

interface ReleaseCommand {
  ugReleaseListing(numKeys: number, key: string, token: string): Promise<number>;
  ugRenewListing(numKeys: number, key: string, token: string, leaseMs: string): Promise<number>;
}

/**
 * The Redis half of the kept listings (the fleet, the alert windows, ESET's user list): one key per
 * listing (`<prefix>l:<source and credentials' fingerprint>:<listing>`) holding its JSON, gzipped (a
 * 30,000-machine fleet is ~45 MB of JSON, a few MB gzipped), with its age (`listedAt`) and freshness;
 * and a claim per listing (`SET NX PX`, a 2 s lease its holder renews while it lists), so that one replica
 * lists while the others wait for its entry instead of listing too. Expires with the listing's keep time. Every method may throw when Redis fails:
 * the caller then lists for itself, as without Redis.
 */
export class SharedListings {
  private readonly client: Redis & ReleaseCommand;
  private readonly prefix: string;

  constructor(
    private readonly link: RedisLink,
    /** Source plus a fingerprint of the credentials: listings of other credentials never mix. */
    namespace: string,
  ) {
    this.client = link.client as Redis & ReleaseCommand;
    if ((this.client as Partial<ReleaseCommand>).ugReleaseListing === undefined) {
      link.client.defineCommand("ugReleaseListing", { lua: RELEASE_LISTING });
    }
    if ((this.client as Partial<ReleaseCommand>).ugRenewListing === undefined) {
      link.client.defineCommand("ugRenewListing", { lua: RENEW_LISTING });
    }
    this.prefix = `${link.prefix}l:${namespace}`;
  }

  get available(): boolean {
    return this.link.available;
  }

  async read(name: string, key: string): Promise<SharedListing | undefined> {
    const raw = await this.client.getBuffer(`${this.prefix}${name}|${key}`);
    if (raw === null) return undefined;
    return JSON.parse((await gunzipAsync(raw)).toString("utf8")) as SharedListing;
  }

  async write(name: string, key: string, listing: SharedListing, keepMs: number): Promise<void> {
    // Level 1: most of gzip's gain on JSON for a fraction of its time (off the event loop, in libuv's pool).
    const raw = await gzipAsync(Buffer.from(JSON.stringify(listing)), { level: 1 });
    await this.client.set(`${this.prefix}${name}|${key}`, raw, "PX", Math.max(1, Math.ceil(keepMs)));
  }

  /**
   * Claims the right to list for a LISTING_CLAIM_LEASE_MS lease; the token to renew and release it with,
   * or undefined when another replica holds it.
   */
  async claim(name: string, key: string): Promise<string | undefined> {
    const token = `${this.link.replicaId}:${randomBytes(6).toString("base64url")}`;
    const ok = await this.client.set(`${this.prefix}${name}|${key}#claim`, token, "PX", LISTING_CLAIM_LEASE_MS, "NX");
    return ok === "OK" ? token : undefined;
  }

  /** Renews this lister's lease every third of it until the returned function is called. */
  holdClaim(name: string, key: string, token: string): () => void {
    const timer = setInterval(() => {
      this.client.ugRenewListing(1, `${this.prefix}${name}|${key}#claim`, token, String(LISTING_CLAIM_LEASE_MS)).catch(() => undefined);
    }, LISTING_CLAIM_LEASE_MS / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  async claimed(name: string, key: string): Promise<boolean> {
    return (await this.client.exists(`${this.prefix}${name}|${key}#claim`)) === 1;
  }

  async release(name: string, key: string, token: string): Promise<void> {
    await this.client.ugReleaseListing(1, `${this.prefix}${name}|${key}#claim`, token);
  }
}
