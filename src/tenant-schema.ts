import {
  defaultFieldResolver,
  GraphQLID,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigMap,
  type GraphQLResolveInfo,
} from "graphql";
import type { Context, TenantView } from "./context";

/** Root fields that are not a tenant's data (federation's own), kept off `Tenant`. */
const NOT_PER_TENANT = new Set(["_entities", "_service", "tenants", "tenant"]);

/**
 * Adds `Query.tenants`, `Query.tenant(id:)` and the type `Tenant`, whose fields are every root field of
 * Query with the same arguments and types, each resolved by the root field's own resolver (its scope
 * checks and validation included) with the tenant's context: one query spans tenants through aliases.
 * Built with graphql-js after type-graphql: the fields are copies of whatever the parts declare, so a new
 * root field is under `Tenant` without a line here.
 */
export function withTenantFields(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const query = schema.getQueryType()!;
  const rootFields = query.toConfig().fields;
  const tenant: GraphQLObjectType<TenantView, Context> = new GraphQLObjectType<TenantView, Context>({
    name: "Tenant",
    description:
      "One customer of this deployment (docs/tenants.md) and every root field of Query answered with its credentials, caches and quota only.",
    fields: () => {
      const fields: GraphQLFieldConfigMap<TenantView, Context> = {
        id: { type: new GraphQLNonNull(GraphQLID), description: "The tenant's id, as API keys and JWTs name it." },
        name: { type: new GraphQLNonNull(GraphQLString), description: "The tenant's display name (TENANTS_FILE)." },
      };
      for (const [name, field] of Object.entries(rootFields)) {
        if (NOT_PER_TENANT.has(name)) continue;
        const resolve = field.resolve ?? defaultFieldResolver;
        fields[name] = {
          ...(field as GraphQLFieldConfig<unknown, Context>),
          resolve: (view, args, _ctx, info) => resolve(undefined, args, view.context, info),
        } as GraphQLFieldConfig<TenantView, Context>;
      }
      return fields;
    },
  });
  const newQuery = new GraphQLObjectType<unknown, Context>({
    ...query.toConfig(),
    fields: () => ({
      ...(rootFields as GraphQLFieldConfigMap<unknown, Context>),
      tenants: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(tenant))),
        description: "The tenants this caller may see (its API key's `@tenant` list, its JWT's `tenants` claim): docs/tenants.md.",
        resolve: (_root, _args, ctx, info) => ctx.visibleTenantViews(info.path.key),
      },
      tenant: {
        type: tenant,
        description:
          "One tenant, by id, with every root field under it: null with FORBIDDEN for a tenant this caller may not see, the same answer as for one that does not exist.",
        args: { id: { type: new GraphQLNonNull(GraphQLID), description: "The tenant's id (see tenants)." } },
        resolve: (_root, args: { id: string }, ctx, info) => ctx.tenantView(args.id, info.path.key),
      },
    }),
  });
  return new GraphQLSchema({
    ...config,
    query: newQuery,
    types: [...config.types.filter((t) => t !== query), tenant],
  });
}

/**
 * With several tenants, every resolver below `tenant(id:)` or `tenants` must read that tenant's loaders,
 * but graphql-js hands every resolver the one request context: each resolver is wrapped to swap in the
 * tenant's context, found by the root of its path. Only installed with TENANTS_FILE, even of one tenant (a
 * reload may add more; a deployment without the file pays nothing), and a request that asks no tenant field
 * pays one property check.
 */
export function scopeResolversByTenant(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__") || type === schema.getQueryType() || type.name === "Tenant") continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      field.resolve = (source, args, ctx: Context, info) => resolve(source, args, ctx.tenantScoped ? ctx.scopedFor(info) : ctx, info);
    }
  }
}

/** The response keys of the first two levels of a path: what names a tenant view (`alias`, or `alias.index` under `tenants`). */
export function pathRoot(info: GraphQLResolveInfo): [string | number, string | number | undefined] {
  let path = info.path;
  let below: string | number | undefined;
  while (path.prev) {
    below = path.key;
    path = path.prev;
  }
  return [path.key, below];
}
