import DataLoader from "dataloader";
import type { Deadline } from "../../../upstream/deadline";
import { ESET_MAX_PAGE_SIZE, type EsetClient } from "../client";
import type { EsetUserDto } from "../dto";
import { mapSettledWithLimit } from "../../../upstream/concurrency";
import type { EntityStore, Outcome, StaleNote } from "../../../store/entity-store";
import { notConfigured } from "../../../upstream/not-configured";

/** Searches in flight at once for one batch; ESET's rate limit still governs the total. */
const SEARCH_CONCURRENCY = 4;

/**
 * The users ESET lists for an `email` filter term: one `GET /v1/users?email=…` per distinct term, one page
 * of up to 1000 (a term is a whole `user@domain.` or `user@`, so more would be a very odd tenant; the rest
 * would go unexamined). ESET's filter is a substring match: callers must judge every user returned. Each
 * listed user is primed into the entity cache, so a follow-up `esetUser(uuid:)` costs nothing.
 */
export function searchEsetUsersByEmail(client: EsetClient, prime: (users: readonly EsetUserDto[]) => void) {
  return async (terms: string[], deadline: Deadline): Promise<Map<string, Outcome<EsetUserDto[]>>> => {
    const results = await mapSettledWithLimit(terms, SEARCH_CONCURRENCY, async (term) => {
      const page = await client.listUsers({ email: term }, ESET_MAX_PAGE_SIZE, "", deadline);
      prime(page.users);
      return page.users;
    });
    return new Map(terms.map((term, i) => [term, results[i]!]));
  };
}

/** Per request: the same term asked by several link fields is one search (and one cache lookup). */
export function createEsetUserSearchLoader(
  store: EntityStore<EsetUserDto[]> | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): DataLoader<string, EsetUserDto[] | null> {
  return new DataLoader<string, EsetUserDto[] | null>(async (terms) => {
    if (!store) return terms.map(() => notConfigured("ESET"));
    return store.loadMany(terms, deadline, onStale);
  });
}
