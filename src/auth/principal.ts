/** Who is asking, as far as usergraph can tell, and what they may read. */
export interface Principal {
  kind: "api-key" | "jwt" | "open";
  /** The API key's label or the JWT's `sub`; never the key or the token. */
  subject: string;
  scopes: ReadonlySet<string>;
  /**
   * The tenants the credential names (`key@a+b`, a JWT's `tenants` claim), or "*" for every one; absent when
   * it names none (see `visibleTenants`).
   */
  tenants?: readonly string[] | "*";
}

/**
 * The ids of the configured tenants this caller may see. A credential that names no tenant sees the one
 * tenant of a single-tenant deployment (today's keys and tokens keep working) and none of a multi-tenant
 * one: fail closed, so a key issued before tenants were configured reads no customer's data.
 */
export function visibleTenants(principal: Principal, configured: readonly string[]): readonly string[] {
  const named = principal.tenants;
  if (named === undefined) return configured.length === 1 ? configured : [];
  if (named === "*") return configured;
  return configured.filter((id) => named.includes(id));
}
