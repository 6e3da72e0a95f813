import type { Logger } from "pino";
import type { Principal } from "./auth/principal";
import type { StartedEntry } from "./sources/clients";
import { createLoaders, type Loaders } from "./sources/loaders";
import type { StaleNote } from "./store/entity-store";
import { Deadline } from "./upstream/deadline";
import { clip } from "./observability/log-bounds";

/** Per-request state. Resolvers are singletons, so everything request-scoped lives here. */
export interface Context {
  loaders: Loaders;
  /**
   * The request's time budget for every upstream attempt, retry and poll, and its lifetime: ended when its
   * answer is sent or its client goes away (src/request-lifetime.plugin.ts), which stops its waiting work.
   */
  deadline: Deadline;
  requestId: string;
  /** Who is asking; resolvers check its scopes per source. */
  principal: Principal;
  /** Bound to this request (requestId, caller); created on first use. */
  log: Logger;
  /** The process logger, for the one line per request that names its ids explicitly. */
  rootLog: Logger;
  /** Reports an enum value a vendor sent that usergraph does not know (logged once per process). */
  reportUnknownEnum: (enumName: string, wireValue: string) => void;
  /** Entries served stale because a vendor failed; reported in the response's `extensions.stale`. */
  stale: StaleNote[];
  /** Most ids one list argument may carry, per list field (MAX_DEFENDER_IDS, MAX_ESET_IDS). */
  maxListIds: Readonly<Record<string, number>>;
}

export interface ContextDeps {
  /** Every registered source with what its loaders read (src/sources/clients.ts). */
  started: readonly StartedEntry[];
  requestDeadlineMs: number;
  maxListIds: Readonly<Record<string, number>>;
  log: Logger;
}

/**
 * Builds the context factory once at start-up. The unknown-enum memory is shared (log each value once per
 * process); loaders and the deadline are new for every request.
 */
export function contextFactory(deps: ContextDeps): (requestId: string, principal: Principal, arrivedAt?: number) => Context {
  const seenEnums = new Set<string>();
  const reportUnknownEnum = (enumName: string, wireValue: string): void => {
    const key = `${enumName}:${wireValue}`;
    if (seenEnums.has(key) || seenEnums.size > 1000) return;
    seenEnums.add(key);
    deps.log.warn({ enumName, wireValue }, "upstream sent an enum value usergraph does not know; served as UNSPECIFIED");
  };
  return (requestId, principal, arrivedAt) => {
    const deadline = new Deadline(deps.requestDeadlineMs, arrivedAt);
    deadline.requestId = requestId;
    deadline.caller = `${principal.kind}:${principal.subject}`;
    const stale: StaleNote[] = [];
    const loaders = createLoaders(deps.started, deadline, (note) => stale.push(note));
    return new RequestContext(loaders, deadline, stale, requestId, principal, deps.log, reportUnknownEnum, deps.maxListIds);
  };
}

/**
 * A class, not an object literal, because Apollo clones the context with Object.assign: a getter on the
 * prototype survives that lazily, where an own getter would be called (and its child logger built) on
 * every request.
 */
class RequestContext implements Context {
  private boundLog?: Logger;

  constructor(
    readonly loaders: Loaders,
    readonly deadline: Deadline,
    readonly stale: StaleNote[],
    readonly requestId: string,
    readonly principal: Principal,
    readonly rootLog: Logger,
    readonly reportUnknownEnum: (enumName: string, wireValue: string) => void,
    readonly maxListIds: Readonly<Record<string, number>>,
  ) {}

  get log(): Logger {
    return (this.boundLog ??= this.rootLog.child({ requestId: this.requestId, caller: clip(this.principal.subject) }));
  }
}
