/**
 * Defender's API families, as its paths name them: `/api/users/…`, `/api/machines…`, `/api/alerts…`. Every
 * page of Defender's docs says "Rate limitations for this API are 100 calls per minute and 1,500 calls per
 * hour", and its errors page says "per API": whether each family has a budget of its own or the app has one
 * for all is unverified (UPSTREAMS.md §5.1). DEFENDER_RATE_LIMIT_SCOPE=endpoint keeps one budget per family
 * (`endpoint`), the default `app` one for every Defender call.
 */
export const DEFENDER_ENDPOINT_FAMILIES = ["users", "machines", "alerts"] as const;

/** A family, or "other" for any other path (a budget of its own too, never one per path). */
export type DefenderEndpointFamily = (typeof DEFENDER_ENDPOINT_FAMILIES)[number] | "other";

/**
 * The family of a Defender API path (with or without its query): the first segment under `/api/`, by the
 * path itself, not by what it returns (`/api/users/{id}/machines` is a users call). The one place that
 * decides it: the rate limiter's buckets come from here.
 */
export function defenderEndpointFamily(path: string): DefenderEndpointFamily {
  const segment = /^\/api\/([^/?#]*)/i.exec(path)?.[1]?.toLowerCase();
  return DEFENDER_ENDPOINT_FAMILIES.find((family) => family === segment) ?? "other";
}
