import { approximateBytes, type ListingBudget } from "../../../store/listing-budget";
import { Listings } from "../../../store/listings";
import type { SharedListings } from "../../../store/shared-listings";
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
 * One roster per ESET account, in the shared Listings (store/listings.ts): one fetch at a time (requests
 * asking meanwhile join it), failures never kept, at most one fetch per request even with caching off,
 * kept within the listing budget (LISTINGS_MAX_MB), and with Redis shared across replicas (one lists, the
 * others read).
 */
export function esetRoster(client: EsetClient, ttlMs: number, budget: ListingBudget, shared?: SharedListings) {
  const listings = new Listings<EsetRoster>({
    name: "eset-roster",
    source: "ESET",
    ttlMs,
    budget,
    maxKept: 1,
    bytes: (r) => approximateBytes(r.users, 64),
    shared: shared && {
      store: shared,
      toWire: ({ users, listedAt, pages, complete }) => ({ users, listedAt, pages, complete }),
      fromWire: (wire) => ({ ...(wire as Omit<EsetRoster, "views">), views: new Map() }),
    },
  });

  const list = async (deadline: Deadline): Promise<EsetRoster> => {
    const users: EsetUserDto[] = [];
    let token = "";
    let pages = 0;
    const listedAt = Date.now();
    do {
      const page = await client.listUsers({}, ESET_MAX_PAGE_SIZE, token, deadline);
      users.push(...page.users);
      token = page.nextPageToken;
      pages++;
    } while (token !== "" && pages < ESET_ROSTER_MAX_PAGES);
    return { users, listedAt, pages, complete: token === "", views: new Map() };
  };

  return (deadline: Deadline): Promise<EsetRoster> => {
    const kept = listings.peek("users") !== undefined || listings.ofRequest("users", deadline) !== undefined;
    const roster = listings.get("users", deadline, () => list(deadline));
    void roster.then(
      (r) =>
        deadline.notePlan(
          kept
            ? "eset users: cached user list"
            : listings.readFromRedis(r)
              ? "eset users: user list from Redis (listed by another replica)"
              : `eset users: list, ${r.pages} call${r.pages === 1 ? "" : "s"}`,
        ),
      () => undefined,
    );
    return roster;
  };
}

export type EsetRosterReader = ReturnType<typeof esetRoster>;
