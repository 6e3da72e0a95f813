import { ValidationError } from "class-validator";
import { ArgumentValidationError, Args, Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../../../context";
import type { EsetListPosition } from "./user-pages";
import { EsetUserConnection } from "./user-connection.type";
import { toWireFilter } from "./user-filter.mapper";
import { ESET_LIST_DEFAULT_FIRST, EsetUserListArgs } from "./user-list.args";
import { decodeCursor, encodeCursor, filterDigest } from "./user-list.cursor";
import { toEsetUser } from "../users/user.mapper";

const INT_MAX = 2_147_483_647;

/** Pages through ESET's user list; the paging itself (vendor tokens, mid-page resumption) is the loader's. */
@Resolver()
export class EsetUserListResolver {
  @Query(() => EsetUserConnection, {
    nullable: true,
    description:
      "ESET users matching a filter, a page at a time (GET /v1/users; first ≤ 1000 maps onto one vendor page). Every listed user is primed into the entity cache, so a follow-up esetUser(uuid:) costs no vendor call. Paging forward with the same first costs one vendor call a page; while the data does not change, every matching user appears exactly once. Null (with its error) when ESET fails, an argument is refused or the caller lacks the ESET scope; the other fields of the request still answer.",
  })
  async esetUserList(@Args() { filter, first, after }: EsetUserListArgs, @Ctx() ctx: Context): Promise<EsetUserConnection | null> {
    const wire = toWireFilter(filter);
    const digest = filterDigest(wire);
    const pages = ctx.loaders.esetUserPages;
    let start: EsetListPosition = { pageToken: "", skip: 0 };
    if (after !== null && after !== undefined) {
      const position = decodeCursor(after, digest, pages.cursorKey);
      if (position === "invalid")
        throw badCursor("not a cursor this usergraph issued (malformed, altered, or for another ESET account); start again without after");
      if (position === "other-filter")
        throw badCursor(
          "the cursor belongs to a list with another filter; page with the filter it came from, or start again without after",
        );
      start = position;
    }
    const slice = await pages.read(wire, start, first ?? ESET_LIST_DEFAULT_FIRST);
    const edges = slice.users.map(({ user, after: position }) => ({
      cursor: encodeCursor(position, digest, pages.cursorKey),
      node: toEsetUser(user, ctx.reportUnknownEnum),
    }));
    // grpc-gateway leaves out a totalSize of 0; from the first page a whole list seen at once counts itself.
    const fromStart = start.pageToken === "" && start.skip === 0;
    const total = slice.totalSize ?? (fromStart && !slice.more ? edges.length : undefined);
    return {
      edges,
      pageInfo: {
        hasNextPage: slice.more,
        hasPreviousPage: !fromStart,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      totalCount: total !== undefined && total <= INT_MAX ? total : null,
    };
  }
}

/** The same error shape as any argument check (BAD_USER_INPUT with validationErrors), never echoing the cursor. */
function badCursor(problem: string): ArgumentValidationError {
  const error = new ValidationError();
  error.property = "after";
  error.constraints = { cursor: problem };
  error.children = [];
  return new ArgumentValidationError([error]);
}
