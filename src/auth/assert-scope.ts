import type { Context } from "../context";
import type { SourceName } from "../upstream/source";
import { MissingScopeError } from "./missing-scope.error";
import { SOURCE_SCOPES } from "./scopes";

/**
 * The per-source scope check, at the top of a resolver: a caller without the scope gets FORBIDDEN on that
 * field only (a synchronous throw nulls just that field), no vendor call is made for it, and the rest of
 * its query still resolves. Synchronous on purpose: type-graphql's `@Authorized` middleware would add two
 * promise hops to every such field.
 */
export function assertScope(context: Context, source: SourceName): void {
  if (!hasScope(context, source)) throw new MissingScopeError(source, SOURCE_SCOPES[source]);
}

/** Whether the caller may read a source, for resolvers that serve what they can and refuse the rest per field. */
export function hasScope(context: Context, source: SourceName): boolean {
  return context.principal.scopes.has(SOURCE_SCOPES[source]);
}
