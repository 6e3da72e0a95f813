import { approximateBytes, type ListingBudget } from "../../../store/listing-budget";
import type { Deadline } from "../../../upstream/deadline";
import { ESET_MAX_PAGE_SIZE, type EsetClient } from "../client";
import type { EsetUserDto } from "../dto";

/** Most pages of ESET's user list one roster reads: 10,000 users (the fleet has 5,000). */
export const ESET_ROSTER_MAX_PAGES = 10;

/**
 * ESET's whole user list (`GET /v1/users?pageSize=1000`, following nextPageToken, at most
 * ESET_ROSTER_MAX_PAGES pages), for joins over the fleet (peopleAtRisk): read once, kept while fresh (the
 * ESET cache TTL) and shared by every request of the account, instead of one ESET search per person.
 * Views of it (an index by address and identity) are kept with it by their users (`views`).
 */
export interface EsetRoster {
  users: EsetUserDto[];
  listedAt: number;
  pages: number;
  /** Every page was read. */
  complete: boolean;
  views: Map<string, unknown>;
}

/**
 * One roster per ESET account: one fetch at a time (requests asking meanwhile join it), failures never
 * kept, at most one fetch per request even with caching off, kept within the listing budget (LISTINGS_MAX_MB).
 * Hand-written rather than Defender's `Listings` because vendor folders do not import each other.
 */
export function esetRoster(client: EsetClient, ttlMs: number, budget: ListingBudget) {
  const slot = "eset-roster|users";
  let inflight: Promise<EsetRoster> | undefined;
  const perRequest = new WeakMap<Deadline, Promise<EsetRoster>>();

  const list = async (deadline: Deadline): Promise<EsetRoster> => {
    const users: EsetUserDto[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await client.listUsers({}, ESET_MAX_PAGE_SIZE, token, deadline);
      users.push(...page.users);
      token = page.nextPageToken;
      pages++;
    } while (token !== "" && pages < ESET_ROSTER_MAX_PAGES);
    return { users, listedAt: Date.now(), pages, complete: token === "", views: new Map() };
  };

  return (deadline: Deadline): Promise<EsetRoster> => {
    const mine = perRequest.get(deadline);
    if (mine !== undefined) return mine;
    let promise: Promise<EsetRoster>;
    const fresh = budget.get(slot);
    if (fresh !== undefined && Date.now() < fresh.freshUntil) {
      promise = Promise.resolve(fresh.value as EsetRoster);
      deadline.notePlan("eset users: cached user list");
    } else {
      promise =
        inflight ??
        (inflight = list(deadline).then(
          (value) => {
            inflight = undefined;
            if (ttlMs > 0) budget.set(slot, { value, freshUntil: Date.now() + ttlMs, bytes: approximateBytes(value.users, 64) }, ttlMs);
            return value;
          },
          (err: unknown) => {
            inflight = undefined;
            throw err;
          },
        ));
      void promise.then(
        (r) => deadline.notePlan(`eset users: list, ${r.pages} call${r.pages === 1 ? "" : "s"}`),
        () => undefined,
      );
    }
    perRequest.set(deadline, promise);
    return promise;
  };
}

export type EsetRosterReader = ReturnType<typeof esetRoster>;
