import { UpstreamError } from "./upstream-error";
import type { SourceName } from "./source";
import { DEFAULT_TENANT } from "../tenants-file";

/**
 * The time budget and lifetime of one GraphQL request. Every upstream attempt, rate-limit wait, retry sleep
 * and ESET poll of that request fits inside it, so a client never waits longer than REQUEST_DEADLINE_MS for
 * an answer; and all of them stop when the request ends (`end`), so nothing it left queued or sleeping
 * spends the vendors' quota after its answer.
 */
export class Deadline {
  private readonly expiresAt: number;
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
   * the fleet listing, alert holders evicted from the cache) fails its field instead of overspending. With
   * tenants, each tenant's calls are counted on their own (a vendor's quota is per tenant): this is the
   * budget of every tenant the operation does not name in `tenantBudgets`.
   */
  callBudget?: Partial<Record<SourceName, number>>;
  /**
   * The HTTP attempts the operation may make in all, retries and ESET polls included: what the vendor's
   * quota sees. Its price plus a small reserve for retries, never past MAX_DEFENDER_COST.
   */
  attemptBudget?: Partial<Record<SourceName, number>>;
  /** The budgets of the tenants the operation names with `tenant(id:)`, by tenant id (each its own price). */
  tenantBudgets?: ReadonlyMap<string, CallBudgets>;
  private readonly spent: Spent = { calls: {}, attempts: {} };
  /** What each tenant spent, by tenant id: a tenant's calls never use another tenant's budget. */
  private spentByTenant?: Map<string, Spent>;

  /** A tenant's budgets and spend; the operation's own for calls that name no tenant. */
  private ledger(tenant: string | undefined): [CallBudgets, Spent] {
    // Calls that name no tenant are the `default` tenant's (a single-tenant deployment's), however its
    // fields were asked: root fields and `tenant(id: "default")` share its loaders and its budget.
    if (tenant === undefined) return [this.tenantBudgets?.get(DEFAULT_TENANT) ?? this, this.spent];
    let spent = this.spentByTenant?.get(tenant);
    if (!spent) (this.spentByTenant ??= new Map()).set(tenant, (spent = { calls: {}, attempts: {} }));
    return [this.tenantBudgets?.get(tenant) ?? this, spent];
  }

  /** Counts a logical API call's first attempt, to `tenant`'s budget; refuses it past the price or the attempt budget. */
  spendCall(source: SourceName, tenant?: string): void {
    const [budgets, spent] = this.ledger(tenant);
    const budget = budgets.callBudget?.[source];
    const made = spent.calls[source] ?? 0;
    if (budget !== undefined && made >= budget) throw this.overPrice(source, tenant, budget);
    if (!this.spendAttempt(source, tenant)) throw this.overPrice(source, tenant);
    spent.calls[source] = made + 1;
  }

  /** Counts one more attempt of a call under way (a retry, an ESET poll); false, counting nothing, past the attempt budget. */
  spendAttempt(source: SourceName, tenant?: string): boolean {
    const [budgets, spent] = this.ledger(tenant);
    const budget = budgets.attemptBudget?.[source];
    const made = spent.attempts[source] ?? 0;
    if (budget !== undefined && made >= budget) return false;
    spent.attempts[source] = made + 1;
    return true;
  }

  /** The error for a call the budget refused. */
  overPrice(source: SourceName, tenant?: string, budget?: number): UpstreamError {
    const [budgets] = this.ledger(tenant);
    const priced = budget ?? budgets.attemptBudget?.[source] ?? budgets.callBudget?.[source] ?? 0;
    return new UpstreamError(source, "over-price", `${source}: the operation already made the ${priced} calls its price allows`, {
      priced,
    });
  }

  /** The request answered, or its client went away: what it started is no longer wanted (but see `keepAliveFor`). */
  private done = false;
  /** Other requests still waiting for work this one started (a single flight they joined). */
  private keepers = 0;
  private lifetimeSignal?: Lifetime;
  private timer?: NodeJS.Timeout;

  /**
   * `startedAt`: when the request arrived (its budget counts from there, not from when its context was built).
   * `usage`: what the request spent, for its log line: HTTP attempts to vendors, entity-cache hits, vendor 404s.
   */
  constructor(
    budgetMs: number,
    startedAt: number = Date.now(),
    readonly usage = { upstreamCalls: 0, cacheHits: 0, upstreamNotFound: 0 },
  ) {
    this.expiresAt = startedAt + budgetMs;
  }

  /**
   * The same deadline and spend, with a lifetime of its own: for work every request shares and none may cut
   * short when it ends (a token request: abandoned half-way it would be remembered as failed for everyone).
   */
  detached(): Deadline {
    const d = new Deadline(0, this.expiresAt, this.usage);
    d.requestId = this.requestId;
    d.caller = this.caller;
    return d;
  }

  /** Whether the request ended (answered, or its client gone), as opposed to running out of time. */
  get ended(): boolean {
    return this.done;
  }

  /** Time left for upstream work; 0 once the deadline passed or the request ended with nobody else waiting on its work. */
  remaining(): number {
    if (this.done && this.keepers === 0) return 0;
    return Math.max(0, this.expiresAt - Date.now());
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  assertTimeLeft(source: SourceName): void {
    if (this.expired()) throw this.lapsed(source);
  }

  /** The error of a wait or call the request's lifetime cut short. */
  lapsed(source: SourceName): UpstreamError {
    return new UpstreamError(
      source,
      "timeout",
      this.done
        ? `${source}: the request ended before the upstream answered`
        : `${source}: request deadline reached before the upstream answered`,
    );
  }

  /**
   * Aborts at the deadline, or when the request ends (see `end`): every wait of the request listens to it.
   * The deadline's timer is armed on first use, so a request answered from the cache never arms one.
   */
  get signal(): LifetimeSignal {
    const lifetime = this.lifetime;
    if (this.timer === undefined && !lifetime.aborted) this.armTimer();
    return lifetime;
  }

  /**
   * The deadline's timer, in steps of TIMER_STEP_MS: requests that arrive within a step share one of node's
   * timer lists (a timer whose duration no other timer has gets a list, and a place in node's timer queue,
   * of its own). Early by less than a step, it looks again and waits for the rest.
   */
  private armTimer(): void {
    const left = this.remaining();
    if (left <= 0) {
      this.abort();
      return;
    }
    const step = left > TIMER_STEP_MS ? left - (left % TIMER_STEP_MS) : left;
    this.timer = setTimeout(() => this.armTimer(), step);
    this.timer.unref();
  }

  private get lifetime(): Lifetime {
    return (this.lifetimeSignal ??= new Lifetime());
  }

  /**
   * Calls `listener` once the lifetime is over (as `signal` aborts), at once if it already is, without
   * arming the deadline's timer: for bookkeeping that must end with the request (a tenant's runtime kept
   * open for its requests in flight, src/sources/clients.ts).
   */
  whenOver(listener: () => void): void {
    const lifetime = this.lifetime;
    if (lifetime.aborted) listener();
    else lifetime.addEventListener("abort", listener);
  }

  /**
   * The request is over (its answer is sent, or its client went away): its queued and sleeping work stops
   * and no further vendor call goes out for it, unless another request still waits on that work.
   */
  end(): void {
    if (this.done) return;
    this.done = true;
    if (this.keepers === 0) this.abort();
  }

  /**
   * `other` waits for work this request started (single flight): the work goes on while either request
   * lives. Call the returned function when `other` stops waiting (the work settled, or `other` is over).
   */
  keepAliveFor(other: Deadline): () => void {
    if (other === this) return () => {};
    this.keepers++;
    let held = true;
    const signal = other.signal;
    const release = (): void => {
      if (!held) return;
      held = false;
      signal.removeEventListener("abort", release);
      if (--this.keepers === 0 && this.done) this.abort();
    };
    if (signal.aborted) release();
    else signal.addEventListener("abort", release);
    return release;
  }

  /** Sleeps `ms`, or until the request's lifetime ends, whichever comes first; the caller checks which. */
  wait(ms: number): Promise<void> {
    const signal = this.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  /**
   * `promise`, unless the request's lifetime ends first: then the `lapsed` error, while the work goes on for
   * whoever else waits on it (a token request, another request's flight).
   */
  race<T>(promise: Promise<T>, source: SourceName): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(this.lapsed(source));
    return new Promise<T>((resolve, reject) => {
      const stop = (): void => reject(this.lapsed(source));
      signal.addEventListener("abort", stop);
      promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
    });
  }

  private abort(): void {
    clearTimeout(this.timer);
    this.lifetimeSignal?.abort(LIFETIME_OVER);
  }
}

const TIMER_STEP_MS = 100;

/** An operation's budgets for each source with a cap of its own: its price, and its attempts (retries included). */
export interface CallBudgets {
  callBudget?: Partial<Record<SourceName, number>>;
  attemptBudget?: Partial<Record<SourceName, number>>;
}

interface Spent {
  calls: Partial<Record<SourceName, number>>;
  attempts: Partial<Record<SourceName, number>>;
}

/**
 * What the waits of a request listen to: the part of `AbortSignal` they and undici use (undici takes any
 * object with `addEventListener`, `removeEventListener`, `aborted` and `reason`).
 */
export interface LifetimeSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: (event?: unknown) => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: (event?: unknown) => void): void;
}

/**
 * Hand-written rather than an AbortController, because of its cost on the hot path: a controller, its
 * EventTarget, `setMaxListeners`, and an Event dispatched at every request's end were most of the 11 % of
 * CPU a one-user lookup gained with request lifetimes (bench/results-issue18.md). A request has one
 * to a few hundred listeners, each added once and removed once: a Set, called in order, once.
 */
class Lifetime implements LifetimeSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners?: Set<(event?: unknown) => void>;

  addEventListener(_type: "abort", listener: (event?: unknown) => void): void {
    if (this.aborted) return;
    (this.listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: "abort", listener: (event?: unknown) => void): void {
    this.listeners?.delete(listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (!listeners) return;
    // One listener's throw (a bug) does not keep the others from running; the first is thrown afterwards,
    // to whoever ended the lifetime, rather than crashing the process as an EventTarget's would.
    let failure: { err: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}

/**
 * The reason every lifetime ends with. One shared value, because `abort()` without a reason builds a
 * DOMException with a stack on every request (a third of the CPU of a one-user lookup); nothing reads the
 * reason: waits and attempts look at `signal.aborted` and `Deadline.ended`.
 */
const LIFETIME_OVER: unknown = Object.freeze(new Error("the request's lifetime ended (its deadline, or its answer was sent)"));
