/**
 * The caller sees several tenants (or none) and asked a root field, which answers for exactly one: it must
 * name one with `tenant(id:)`. With none visible it is refused like a tenant it may not see.
 */
export class TenantRequiredError extends Error {
  override readonly name = "TenantRequiredError";
  constructor(readonly visible: number) {
    super(visible === 0 ? "the caller may see no tenant" : `the caller sees ${visible} tenants`);
  }
}

/** `tenant(id:)` named a tenant the caller may not see, or one that does not exist: the same answer for both. */
export class TenantForbiddenError extends Error {
  override readonly name = "TenantForbiddenError";
  constructor() {
    super("no such tenant for this caller");
  }
}
