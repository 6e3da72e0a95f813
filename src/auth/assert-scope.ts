import type { Context } from "../context";
import type { SourceName } from "../upstream/source";
import { MissingScopeError } from "./missing-scope.error";
import { scopeOf } from "./scopes";

/**
 * Which sources a field reads, so which scopes a caller needs to reach it: the scope of `every` source
 * named, or of at least one (`anyOf`, for a field that serves each side it may read and refuses the rest
 * per field, as `person(ref:)` does).
 */
export type SourceAccess = { readonly every: readonly SourceName[] } | { readonly anyOf: readonly SourceName[] };

/**
 * The scope check. The core runs it before a part's resolver (src/auth/part-scopes.ts), never a resolver
 * itself: a caller without the scope gets FORBIDDEN on that field only (a synchronous throw nulls just
 * that field), no vendor call is made for it, and the rest of its query still resolves. Synchronous on
 * purpose: type-graphql's `@Authorized` middleware would add two promise hops to every such field.
 */
export function assertAccess(context: Context, access: SourceAccess): void {
  const scopes = context.principal.scopes;
  if ("anyOf" in access) {
    for (const source of access.anyOf) if (scopes.has(scopeOf(source))) return;
    const first = access.anyOf[0]!;
    throw new MissingScopeError(first, scopeOf(first));
  }
  for (const source of access.every) if (!scopes.has(scopeOf(source))) throw new MissingScopeError(source, scopeOf(source));
}

/** Whether the caller may read a source, for resolvers that serve what they can and refuse the rest per field. */
export function hasScope(context: Context, source: SourceName): boolean {
  return context.principal.scopes.has(scopeOf(source));
}
