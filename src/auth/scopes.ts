import type { SourceName } from "../upstream/source";

/** The scope a caller needs to read each source's fields. */
export const SOURCE_SCOPES: Record<SourceName, string> = {
  DEFENDER: "defender:users:read",
  ESET: "eset:users:read",
};

export const ALL_SCOPES: readonly string[] = Object.values(SOURCE_SCOPES);
