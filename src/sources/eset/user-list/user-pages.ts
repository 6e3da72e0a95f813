import type { Deadline } from "../../../upstream/deadline";
import { ESET_MAX_PAGE_SIZE, type EsetClient, type EsetUserPage } from "../client";
import type { EsetUserDto, EsetUserListFilter } from "../dto";
import type { EntityStore } from "../../../store/entity-store";
import { notConfigured } from "../../../upstream/not-configured";

/**
 * A place in ESET's user list that survives a restart: the vendor page token to ask for ("" = the first
 * page) and how many users at the start of that page are already behind the reader.
 */
export interface EsetListPosition {
  pageToken: string;
  skip: number;
}

/** One listed user and the position right after it (where reading resumes from this user on). */
export interface ListedEsetUser {
  user: EsetUserDto;
  after: EsetListPosition;
}

export interface EsetUserSlice {
  users: ListedEsetUser[];
  /** ESET has users beyond the last one returned. */
  more: boolean;
  /** ESET's totalSize for the filter, when it said. */
  totalSize: number | undefined;
}

/** Per request: reads slices of ESET's user list. */
export interface EsetUserPages {
  /**
   * Signs the positions handed to clients as cursors. Derived from the ESET account's credentials, so it is
   * the same after a restart and on every replica, and a cursor from another account does not verify.
   */
  readonly cursorKey: Buffer;
  /** Up to `first` users (0 to 1000) from `start`, in ESET's order, each listed user primed into the entity cache. */
  read(filter: EsetUserListFilter, start: EsetListPosition, first: number): Promise<EsetUserSlice>;
}

/** What the list reader needs from start-up; absent when ESET is not configured. */
export interface EsetListDeps {
  client: EsetClient;
  cursorKey: Buffer;
}

/**
 * A vendor page that ends short of the page size while still naming a next page is legal (AIP-158); after
 * this many calls a slice stops early and its last position resumes, so a misbehaving list cannot spend the
 * whole rate budget of one request.
 */
const MAX_CALLS_PER_SLICE = 5;

/**
 * Fresh for each request. A slice costs one `GET /v1/users` when it starts at a vendor page boundary and
 * two when it starts mid-page (the rest of that page, then the next). Positions at the end of a vendor page
 * are handed out as the start of the next one, so paging forward with the same `first` is one call a page.
 * The same vendor page asked twice in one request (aliases) is fetched once.
 */
export function createEsetUserPages(
  deps: EsetListDeps | undefined,
  store: EntityStore<EsetUserDto> | undefined,
  deadline: Deadline,
): EsetUserPages {
  const fetched = new Map<string, Promise<EsetUserPage>>();
  const fetchPage = (filter: EsetUserListFilter, pageSize: number, pageToken: string): Promise<EsetUserPage> => {
    const key = JSON.stringify([Object.entries(filter).sort(), pageSize, pageToken]);
    let page = fetched.get(key);
    if (page === undefined) {
      page = deps!.client.listUsers(filter, pageSize, pageToken, deadline).then((p) => {
        store?.prime(p.users.map((u) => [u.uuid, u] as const));
        return p;
      });
      fetched.set(key, page);
    }
    return page;
  };
  return {
    cursorKey: deps?.cursorKey ?? UNCONFIGURED_KEY,
    async read(filter, start, first) {
      if (!deps) throw notConfigured("ESET");
      const users: ListedEsetUser[] = [];
      let { pageToken, skip } = start;
      let totalSize: number | undefined;
      for (let calls = 1; ; calls++) {
        const need = first - users.length;
        // With first = 0 one user is still asked for: ESET's pageSize 0 means 50, and the count and
        // hasNextPage need one call anyway.
        const page = await fetchPage(filter, Math.min(ESET_MAX_PAGE_SIZE, skip + Math.max(1, need)), pageToken);
        totalSize ??= page.totalSize;
        const last = page.users.length - 1;
        const taken = page.users.slice(skip, skip + need);
        taken.forEach((user, i) => {
          const index = skip + i;
          const after =
            index === last && page.nextPageToken !== "" ? { pageToken: page.nextPageToken, skip: 0 } : { pageToken, skip: index + 1 };
          users.push({ user, after });
        });
        const leftInPage = page.users.length > skip + taken.length;
        if (users.length >= first || page.nextPageToken === "" || calls >= MAX_CALLS_PER_SLICE) {
          return { users, more: leftInPage || page.nextPageToken !== "", totalSize };
        }
        pageToken = page.nextPageToken;
        skip = 0;
      }
    },
  };
}

/** Never signs anything a client sees: without ESET every read fails with SOURCE_NOT_CONFIGURED first. */
const UNCONFIGURED_KEY = Buffer.alloc(32);
