import type { SourceName } from "../upstream/source";

/** The caller is authenticated but may not read this source. The field is null; the rest of the query runs. */
export class MissingScopeError extends Error {
  override readonly name = "MissingScopeError";
  constructor(
    readonly source: SourceName,
    readonly requiredScope: string,
  ) {
    super(`the caller lacks the ${requiredScope} scope`);
  }
}
