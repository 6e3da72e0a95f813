import type { GraphQLResolveInfo } from "graphql";
import type { Logger } from "pino";
import { visibleTenants, type Principal } from "./auth/principal";
import { TenantForbiddenError, TenantRequiredError } from "./auth/tenant-errors";
import { DEFAULT_TENANT } from "./tenants-file";
import { pathRoot } from "./tenant-schema";
import type { StartedEntry, TenantRuntimes } from "./sources/clients";
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
  /** Set once a tenant field (`tenant(id:)`, `tenants`) resolved with several tenants: the contexts below them, by path root. */
  tenantScoped?: Map<string, Context>;
  /** The context of the tenant field above this resolver's path (src/tenant-schema.ts), or this one. */
  scopedFor(info: GraphQLResolveInfo): Context;
  /**
   * The tenant whose data the field at `path` (an error's) read: the `tenant(id:)` or `tenants` entry above it,
   * else the root fields' tenant once their loaders were made. Only configured ids (for log lines).
   */
  tenantAt(path: readonly (string | number)[] | undefined): string | undefined;
  /** `tenant(id:)`: the tenant with a context of its own; FORBIDDEN for one the caller may not see or that does not exist. */
  tenantView(id: string, responseKey: string | number): TenantView;
  /** How many tenants the caller may see: what `tenants { … }` runs for (its price, src/limits/operation-limits.ts). */
  tenantsVisible(): number;
  /** `tenants`: every tenant the caller may see, each with a context of its own. */
  visibleTenantViews(responseKey: string | number): TenantView[];
  /**
   * The tenants this request touched, in the order it did, for its log line: the caller's one tenant when a
   * root field read data, each tenant a `tenant(id:)` or `tenants` field opened. Only configured ids the
   * caller may see are ever added (an id the caller spelled that is not one is never here). Every copy of
   * the context shares it.
   */
  readonly tenantsTouched: Set<string>;
}

/** A tenant as `Query.tenant` answers it: its id and name, and the context its fields are resolved with. */
export interface TenantView {
  id: string;
  name: string;
  context: Context;
}

export interface ContextDeps {
  /** Every registered source with what its loaders read, in a single-tenant deployment (src/sources/clients.ts). */
  started: readonly StartedEntry[];
  /** The configured tenants, each started on first use; absent: the one tenant whose sources are `started`. */
  tenants?: TenantRuntimes;
  requestDeadlineMs: number;
  maxListIds: Readonly<Record<string, number>>;
  log: Logger;
  /**
   * Demo mode only (src/demo.ts; never set outside it): the tenant a caller whose credential names no
   * tenant asks with root fields, and such a caller sees every tenant through `tenants` and `tenant(id:)`.
   * The contract's rule (a caller of several tenants gets TENANT_REQUIRED on root fields, a credential that
   * names none sees none of several) is bent here so the README's first queries answer on the demo's first
   * tenant while its second is one `tenant(id:)` away: the demo holds made-up data only. Anywhere else such
   * a caller still sees nothing (docs/tenants.md, "Trying it in the demo").
   */
  demoRootTenant?: string;
}

/** What a caller may see: the contract's rule, or every tenant for a caller naming none in the demo (demoRootTenant). */
function visibility(deps: ContextDeps): (principal: Principal, ids: readonly string[]) => readonly string[] {
  const demoRoot = deps.demoRootTenant;
  return (principal, ids) => (demoRoot !== undefined && principal.tenants === undefined ? ids : visibleTenants(principal, ids));
}

/** How many tenants a caller sees (what `tenants { … }` runs for), without a request context: the fast path prices before it makes one. */
export function tenantsVisibleTo(deps: ContextDeps): (principal: Principal) => number {
  const visibleTo = visibility(deps);
  return (principal) => visibleTo(principal, deps.tenants?.ids ?? [DEFAULT_TENANT]).length;
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
  const tenants = deps.tenants;
  // Without TENANTS_FILE the tenants are fixed: the one tenant of today's variables, or the demo's. With it,
  // they may change at any SIGHUP (even from one to several), so every request reads the list in force.
  const fixed = tenants === undefined || !tenants.reloadable;
  const single = fixed && (tenants === undefined || tenants.ids.length === 1);
  const demoRoot = deps.demoRootTenant;
  const visibleTo = visibility(deps);
  /**
   * The loaders of the one tenant the caller sees; with several or none visible, loaders that refuse every
   * use (TENANT_REQUIRED, or FORBIDDEN for none), so no root field can read any tenant's data.
   */
  const loadersOf = (
    principal: Principal,
    deadline: Deadline,
    onStale: (note: StaleNote) => void,
    touched: Set<string>,
    box: LoaderBox,
  ): Loaders => {
    const visible = visibleTo(principal, tenants!.ids);
    // In the demo, a caller naming no tenant asks root fields of its first one (see ContextDeps.demoRootTenant).
    const root = demoRoot !== undefined && principal.tenants === undefined ? demoRoot : visible.length === 1 ? visible[0] : undefined;
    const runtime = root === undefined ? undefined : tenants!.get(root, deadline);
    if (runtime) {
      touched.add((box.tenant = runtime.id));
      return createLoaders(runtime.started, deadline, onStale);
    }
    const refusal = new TenantRequiredError(visible.length);
    return new Proxy({} as Loaders, {
      get: () => {
        throw refusal;
      },
    });
  };
  const access: TenantAccess = {
    get ids() {
      return tenants?.ids ?? [DEFAULT_TENANT];
    },
    single,
    visible: visibleTo,
    nameOf: (id) => tenants?.nameOf(id) ?? id,
    loaders: (id, deadline, onStale) => {
      // Held for the request's lifetime: a reload that retires the tenant lets this request finish first.
      const runtime = tenants?.get(id, deadline);
      return runtime ? createLoaders(runtime.started, deadline, onStale) : undefined;
    },
  };
  return (requestId, principal, arrivedAt) => {
    const deadline = new Deadline(deps.requestDeadlineMs, arrivedAt);
    deadline.requestId = requestId;
    deadline.caller = `${principal.kind}:${principal.subject}`;
    const stale: StaleNote[] = [];
    const onStale = (note: StaleNote) => stale.push(note);
    const touched = new Set<string>();
    // The single-tenant hot path is as before tenants: a credential naming no tenant sees the only one.
    // Made on first use: a request that reads no source (`{ __typename }`, introspection, a refusal) makes none.
    const loaders: LoaderBox = {
      make:
        fixed && (tenants === undefined || principal.tenants === undefined)
          ? () => {
              touched.add((loaders.tenant = access.ids[0]!));
              return createLoaders(deps.started, deadline, onStale);
            }
          : () => loadersOf(principal, deadline, onStale, touched, loaders),
    };
    return new RequestContext(
      loaders,
      deadline,
      stale,
      requestId,
      principal,
      deps.log,
      reportUnknownEnum,
      deps.maxListIds,
      access,
      touched,
    );
  };
}

/**
 * A class, not an object literal, because Apollo clones the context with Object.assign: a getter on the
 * prototype survives that lazily, where an own getter would be called (and its child logger built) on
 * every request.
 */
/** What a request may know of the tenants: their ids and names, and how to make one tenant's loaders. */
interface TenantAccess {
  ids: readonly string[];
  /** The ids of `ids` this caller may see (visibleTenants, or the demo's rule: ContextDeps.demoRootTenant). */
  visible(principal: Principal, ids: readonly string[]): readonly string[];
  /** One tenant: its loaders are the request's own (`tenant(id:)` swaps no context). */
  single: boolean;
  nameOf(id: string): string;
  loaders(id: string, deadline: Deadline, onStale: (note: StaleNote) => void): Loaders | undefined;
}

/**
 * A request's loaders, made on first use. A box, not a field of the context, because Apollo copies the
 * context's own properties (a batch's operations, a gateway's request context): every copy shares the box,
 * so a request has one set of loaders (one DataLoader batch) whichever copy makes them.
 */
interface LoaderBox {
  made?: Loaders;
  make(): Loaders;
  /** The tenant these loaders read, once known (for log lines). */
  tenant?: string;
}

class RequestContext implements Context {
  private boundLog?: Logger;
  tenantScoped?: Map<string, Context>;
  /** One context per tenant the request asked, shared by every alias naming it (one DataLoader batch per tenant). */
  private tenantContexts?: Map<string, Context>;

  constructor(
    private readonly loaderBox: LoaderBox,
    readonly deadline: Deadline,
    readonly stale: StaleNote[],
    readonly requestId: string,
    readonly principal: Principal,
    readonly rootLog: Logger,
    readonly reportUnknownEnum: (enumName: string, wireValue: string) => void,
    readonly maxListIds: Readonly<Record<string, number>>,
    private readonly access: TenantAccess,
    readonly tenantsTouched: Set<string>,
  ) {}

  scopedFor(info: GraphQLResolveInfo): Context {
    const [root, below] = pathRoot(info);
    return this.tenantScoped?.get(String(root)) ?? this.tenantScoped?.get(`${root}.${below}`) ?? this;
  }

  tenantAt(path: readonly (string | number)[] | undefined): string | undefined {
    const root = path?.[0];
    const scoped = root === undefined ? undefined : (this.tenantScoped?.get(String(root)) ?? this.tenantScoped?.get(`${root}.${path![1]}`));
    return (scoped as RequestContext | undefined)?.loaderBox.tenant ?? this.loaderBox.tenant;
  }

  tenantView(id: string, responseKey: string | number): TenantView {
    // The configured id, not the caller's string: only what `visible` returns goes on (log lines included).
    const visible = this.access.visible(this.principal, this.access.ids).find((v) => v === id);
    if (visible === undefined) throw new TenantForbiddenError();
    return this.viewOf(visible, String(responseKey));
  }

  tenantsVisible(): number {
    return this.access.visible(this.principal, this.access.ids).length;
  }

  visibleTenantViews(responseKey: string | number): TenantView[] {
    return this.access.visible(this.principal, this.access.ids).map((id, i) => this.viewOf(id, `${responseKey}.${i}`));
  }

  private viewOf(id: string, scopeKey: string): TenantView {
    const name = this.access.nameOf(id);
    if (this.access.single) {
      this.tenantsTouched.add(id);
      return { id, name, context: this };
    }
    // Only what differs is copied: the tenant's loaders; deadline, stale notes, principal and log are the request's.
    let context = this.tenantContexts?.get(id);
    if (!context) {
      const loaders = this.access.loaders(id, this.deadline, (note) => this.stale.push(note));
      if (!loaders) throw new TenantForbiddenError();
      const loaderBox: LoaderBox = { made: loaders, make: () => loaders, tenant: id };
      const copy: Context = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as Context, this, {
        loaderBox,
        tenantScoped: undefined,
      });
      context = copy;
      (this.tenantContexts ??= new Map()).set(id, context);
    }
    (this.tenantScoped ??= new Map()).set(scopeKey, context);
    this.tenantsTouched.add(id);
    return { id, name, context };
  }

  get loaders(): Loaders {
    const box = this.loaderBox;
    return (box.made ??= box.make());
  }

  get log(): Logger {
    return (this.boundLog ??= this.rootLog.child({ requestId: this.requestId, caller: clip(this.principal.subject) }));
  }
}
