import type { SourceName } from "./source";
import { UpstreamError } from "./upstream-error";

/** The error every key of an unconfigured source resolves to; no upstream call is made. */
export function notConfigured(source: SourceName): UpstreamError {
  return new UpstreamError(source, "not-configured", `${source} has no credentials configured`);
}
