import { GraphQLError } from "graphql";
import { ErrorCode } from "./error-code";

/**
 * Text that is not well-formed Unicode (a lone UTF-16 surrogate) about to go into a vendor URL, where it
 * cannot be percent-encoded. The request's variables are checked for this before anything runs
 * (limits/variable-limits.ts); this is the last gate, so such text never becomes an internal error with a stack.
 */
export class IllFormedTextError extends GraphQLError {
  constructor(what: string) {
    super(`The ${what} is not well-formed Unicode (it has a lone UTF-16 surrogate), so usergraph cannot send it to the vendor.`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    });
  }
}
