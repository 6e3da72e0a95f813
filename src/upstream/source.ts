import type { UpstreamError } from "./upstream-error";

/**
 * A source's name, as the source registers it ("DEFENDER"): what `extensions.source`, metrics labels,
 * rate-limit budgets and cache keys carry. The shared machinery never spells one out.
 */
export type SourceName = string;

/**
 * What the shared machinery needs to know to speak of a source, given by the source itself
 * (src/sources/<vendor>/register.ts): its words in messages, its scope, the settings an operator fixes,
 * and its own cost limit. The core reads these; it never branches on a name.
 */
export interface SourceFacts {
  name: SourceName;
  /** The product, in messages: "Defender for Endpoint". */
  title: string;
  /** Its short name, in counts and start-up lines: "Defender" ("it may make 120 Defender calls"). */
  short: string;
  /** The scope a caller needs to read the source's fields. */
  scope: string;
  /** The settings an operator checks when the vendor refuses usergraph's credentials, in a sentence ("A and B"). */
  credentials: string;
  /** The same for the start-up credential check's line (variables and any permission the vendor needs). */
  credentialCheck: string;
  /**
   * The source's own words for an error code (its error vocabulary), used instead of the shared message
   * when it returns one. `status` is " (HTTP 403)" or "".
   */
  message?: (err: UpstreamError, code: string, status: string) => string | undefined;
  /**
   * A cap of the source's own on an operation's calls, besides MAX_COST for all sources together
   * (Defender: MAX_DEFENDER_COST, for its 100 calls a minute per app). The value is in
   * `OperationLimits.sourceCost[name]`.
   */
  costLimit?: { setting: string };
}

const registered = new Map<SourceName, SourceFacts>();

/**
 * Registers a source (src/sources/index.ts does for the built-in ones, before anything reads the
 * registry). The same object again is a no-op; another source under a taken name is a programming error.
 */
export function registerSourceFacts(facts: SourceFacts): void {
  const known = registered.get(facts.name);
  if (known !== undefined && known !== facts) throw new Error(`two sources are registered as ${facts.name}`);
  registered.set(facts.name, facts);
}

/** The facts of a registered source, or undefined. */
export function sourceFacts(name: SourceName): SourceFacts | undefined {
  return registered.get(name);
}

/** Every registered source, in registration order. */
export function registeredSources(): readonly SourceFacts[] {
  return [...registered.values()];
}
