import { UpstreamError } from "./upstream-error";
import type { SourceName } from "./source";

/**
 * The time budget of one GraphQL request. Every upstream attempt, retry wait and ESET poll of that request
 * fits inside it, so a client never waits longer than REQUEST_DEADLINE_MS for an answer.
 */
export class Deadline {
  private readonly expiresAt: number;
  /** What the request spent, for its log line: HTTP attempts to vendors, entity-cache hits, vendor 404s. */
  readonly usage = { upstreamCalls: 0, cacheHits: 0, upstreamNotFound: 0 };
  /**
   * Which vendor plan each batched lookup of the request chose ("alerts: list, 1 call for 50 users"), for
   * its log line. Bounded: a request that makes more choices than this logs the first ones.
   */
  readonly plans: string[] = [];

  notePlan(plan: string): void {
    if (this.plans.length < 20) this.plans.push(plan);
  }
  /** The GraphQL request this budget belongs to, so upstream log lines can name it. */
  requestId?: string;
  /**
   * Who the request is for (principal kind and subject): the outbound rate limiters share each vendor's
   * budget fairly between callers by it. A fetch that several requests share through the entity cache's
   * single flight is charged to the request that started it.
   */
  caller?: string;
  /**
   * The vendor calls the operation was priced at (src/limits/operation-limits.ts), when it was priced: the
   * price is a promise to the vendor's quota, so a path the price did not foresee (machines missing from
   * the fleet listing, alert holders evicted from the cache) fails its field instead of overspending.
   */
  callBudget?: Partial<Record<SourceName, number>>;
  /**
   * The HTTP attempts the operation may make in all, retries and ESET polls included: what the vendor's
   * quota sees. Its price plus a small reserve for retries, never past MAX_DEFENDER_COST.
   */
  attemptBudget?: Partial<Record<SourceName, number>>;
  private readonly callsMade: Partial<Record<SourceName, number>> = {};
  private readonly attemptsMade: Partial<Record<SourceName, number>> = {};

  /** Counts a logical API call's first attempt; refuses it past the price or the attempt budget. */
  spendCall(source: SourceName): void {
    const budget = this.callBudget?.[source];
    const made = this.callsMade[source] ?? 0;
    if (budget !== undefined && made >= budget) throw this.overPrice(source, budget);
    if (!this.spendAttempt(source)) throw this.overPrice(source, this.attemptBudget?.[source] ?? 0);
    this.callsMade[source] = made + 1;
  }

  /** Counts one more attempt of a call under way (a retry, an ESET poll); false, counting nothing, past the attempt budget. */
  spendAttempt(source: SourceName): boolean {
    const budget = this.attemptBudget?.[source];
    const made = this.attemptsMade[source] ?? 0;
    if (budget !== undefined && made >= budget) return false;
    this.attemptsMade[source] = made + 1;
    return true;
  }

  /** The error for a call the budget refused. */
  overPrice(source: SourceName, budget = this.attemptBudget?.[source] ?? this.callBudget?.[source] ?? 0): UpstreamError {
    return new UpstreamError(source, "over-price", `${source}: the operation already made the ${budget} calls its price allows`, {
      priced: budget,
    });
  }

  constructor(budgetMs: number, now: number = Date.now()) {
    this.expiresAt = now + budgetMs;
  }

  remaining(): number {
    return Math.max(0, this.expiresAt - Date.now());
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  assertTimeLeft(source: SourceName): void {
    if (this.expired()) {
      throw new UpstreamError(source, "timeout", `${source}: request deadline reached before the upstream answered`);
    }
  }
}

/** Resolves after `ms`; used for backoff and polling waits. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
