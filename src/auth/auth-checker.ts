import type { AuthChecker } from "type-graphql";
import type { Context } from "../context";
import type { SourceName } from "../upstream/source";
import { MissingScopeError } from "./missing-scope.error";
import { SOURCE_SCOPES } from "./scopes";

/**
 * type-graphql's `@Authorized(scope)` check, per field: a caller without the scope gets FORBIDDEN on that
 * field only (and no vendor call is made for it), while the rest of its query still resolves.
 */
export const scopeChecker: AuthChecker<Context> = ({ context }, required) => {
  for (const scope of required) {
    if (!context.principal.scopes.has(scope)) {
      const source = (Object.keys(SOURCE_SCOPES) as SourceName[]).find((s) => SOURCE_SCOPES[s] === scope) ?? "DEFENDER";
      throw new MissingScopeError(source, scope);
    }
  }
  return true;
};
