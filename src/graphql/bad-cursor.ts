import { ValidationError } from "class-validator";
import { ArgumentValidationError } from "type-graphql";

/** A refused `after:` in the same error shape as any argument check (BAD_USER_INPUT with validationErrors), never echoing the cursor. */
export function badCursor(problem: string): ArgumentValidationError {
  const error = new ValidationError();
  error.property = "after";
  error.constraints = { cursor: problem };
  error.children = [];
  return new ArgumentValidationError([error]);
}
