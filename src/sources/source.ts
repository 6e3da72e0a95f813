import type { Logger } from "pino";
import type { Config, SourceConfigSpec } from "../config";
import type { Simulator } from "../simulator/simulator";
import type { GraphPart } from "../graphql/graph-part";
import type { EntityStoreOptions, EntityStore, StaleNote } from "../store/entity-store";
import type { RedisLink } from "../store/redis-link";
import type { ListingBudget } from "../store/listing-budget";
import type { SharedListings } from "../store/shared-listings";
import type { Deadline } from "../upstream/deadline";
import type { PendingStore, RetryingSender, SourceGuards } from "../upstream/http-json";
import type { OutboundLimiter, RateWindow } from "../upstream/rate-limiter";
import { registerSourceFacts, type SourceFacts } from "../upstream/source";
import type { FetchedToken, TokenCache } from "../upstream/token-cache";
import type { Loaders } from "./loaders";

/** A configured source at run time: its client, and what readiness checks and metrics look at. */
export interface SourceRuntime<C = unknown> {
  client: C;
  token: TokenCache;
  guards: Required<SourceGuards> & { limiter: OutboundLimiter };
}

/** What a source's `start` made: its runtime, and the process-wide state its loaders read (opaque to the core). */
export interface StartedSource<State = unknown> {
  runtime: SourceRuntime;
  state: State;
}

/** The fields every entity store shares: the one cache, negative and stale-if-error times, the lookup counter. */
export type StoreCommon = Pick<EntityStoreOptions<unknown>, "cache" | "negativeMs" | "staleIfErrorMs" | "observe">;

/**
 * The shared machinery, as one source sees it at start-up: everything is already named after the source,
 * so a source builds its client, token, guards and stores without knowing how budgets, caches or Redis
 * namespaces are spelled.
 */
export interface SourceKit<Connection = unknown, Settings = unknown> {
  /** The source's own connection (credentials and URLs), as its `config.connection` read it; undefined: not configured. */
  connection: Connection | undefined;
  /** The source's own settings, as its `config.settings` read them. */
  settings: Settings;
  /** The whole configuration, for the shared settings (timeouts and the like). */
  config: Config;
  /** The upstream logger (component "upstream"). */
  log: Logger;
  /** The one sender every vendor call goes through (pool, proxy, retries, this source's guards). */
  sender: RetryingSender;
  /**
   * "demo-simulator" in demo mode (its port changes at every start), else the URL: the part of an identity
   * that says where. For a tenant other than `default` it also names the tenant (`tenant:<id>|…`), so every
   * budget, cache key and cursor key made from an identity is the tenant's own, even with shared credentials.
   */
  where(url: URL): string;
  /** A short one-way digest of an identity (whose credentials): names budgets, cache keys and namespaces. */
  fingerprint(identity: string): string;
  /** Never logged: the kit redacts it from every log line. */
  redact(secret: string | undefined): void;
  /** Told about every token the source obtains outside its TokenCache (so logs can redact it). */
  onToken(token: string): void;
  /**
   * The source's outbound rate limit and circuit breaker, sized by `windows`, one budget per `identity`
   * (shared by every replica through Redis), or one per bucket of paths when `bucketOf` is given.
   */
  guard(options: { identity: string; windows: readonly RateWindow[]; bucketOf?: (path: string) => string }): SourceRuntime["guards"];
  /** A token cache (single flight, remembered failures, metrics and logs) over the source's token flow. */
  tokenCache(fetch: (deadline: Deadline) => Promise<FetchedToken>): TokenCache;
  /** Where the source's pending answers (a 202's response-id) are remembered, per identity, across replicas with Redis. */
  pendingStore(identity: string): PendingStore;
  /** A cached, single-flight store of entities under a key prefix the source chooses (shared through Redis when configured). */
  store<V>(options: { keyPrefix: string; freshMs: number; fetchMany: EntityStoreOptions<V>["fetchMany"] }): EntityStore<V>;
  /** For stores a source builds itself. */
  storeCommon: StoreCommon;
  redis?: RedisLink;
  /** The one bound over every listing kept (LISTINGS_MAX_MB), shared by every source. */
  listings: ListingBudget;
  /** With Redis, listings under a key prefix the source chooses, shared by every replica (one lists, the others read). */
  sharedListings(keyPrefix: string): SharedListings | undefined;
}

/**
 * Everything a source brings, described by the source itself (src/sources/<vendor>/register.ts): its facts
 * (name, words in messages, scope, own cost limit: see SourceFacts), its part of the graph (resolvers and
 * prices), how it starts, and its loaders. The core iterates over the registered sources and names none.
 */
export interface SourceDefinition<State = unknown, Connection = unknown, Settings = unknown> extends SourceFacts {
  part: GraphPart;
  /** Its variables: src/config.ts reads them through this, and names none. */
  config: SourceConfigSpec<Connection, Settings>;
  /** In demo mode (no credentials, or DEMO=1): its connection to the built-in simulator; without it, the source is off in the demo. */
  demo?(simulator: Simulator): Connection;
  /** Builds the source's process-wide runtime, or undefined when the configuration does not set the source up. */
  start(kit: SourceKit<Connection, Settings>): StartedSource<State> | undefined;
  /**
   * Adds the source's loaders for one request to `loaders`, from the state `start` made; without it (not
   * configured), loaders that answer SOURCE_NOT_CONFIGURED. Called for every request: cheap, lazy where it can.
   */
  addLoaders(loaders: Loaders, state: State | undefined, deadline: Deadline, onStale: (note: StaleNote) => void): void;
}

const definitions: SourceDefinition[] = [];

/**
 * Registers a source: its fields join the schema built after this, its facts the registry the shared
 * machinery reads. src/sources/index.ts registers the built-in ones; a test or an embedding registers more
 * the same way, before it loads the configuration and starts the gateway.
 */
export function registerSource<State, Connection, Settings>(source: SourceDefinition<State, Connection, Settings>): void {
  registerSourceFacts(source);
  if (!definitions.includes(source as SourceDefinition)) definitions.push(source as SourceDefinition);
}

/** The registered sources, in registration order. */
export function registeredSourceDefinitions(): readonly SourceDefinition[] {
  return definitions;
}
