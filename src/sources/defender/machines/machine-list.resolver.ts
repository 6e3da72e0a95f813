import type { GraphQLResolveInfo } from "graphql";
import { Args, Ctx, Info, Query, Resolver } from "type-graphql";
import type { Context } from "../../../context";
import { badCursor } from "../../../graphql/bad-cursor";
import { selectsField } from "../../../graphql/selects";
import { notConfigured } from "../../../upstream/not-configured";
import { facetsOf, pageAfter, sortKey, viewDigest, viewOf } from "./fleet-view";
import { DefenderMachineConnection } from "./machine-connection.type";
import { DEFENDER_MACHINES_DEFAULT_FIRST, DefenderMachinesArgs } from "./machine-list.args";
import { decodeCursor, encodeCursor } from "./machine-list.cursor";
import { toDefenderMachine } from "./machine.mapper";

const NO_FACETS = { riskScore: [], exposureLevel: [], healthStatus: [], osPlatform: [] };

/** The fleet as a connection: one listing (machine.plan.ts, kept while fresh) filtered, ordered, counted and paged here. */
@Resolver()
export class DefenderMachineListResolver {
  @Query(() => DefenderMachineConnection, {
    nullable: true,
    description:
      "Defender machines of the whole fleet, filtered, ordered and counted, a page at a time. Served from the fleet listing (GET /api/machines?$top=10000, following @odata.nextLink to the end, at most 10 pages = 100,000 machines): listed once and kept for the Defender cache TTL, shared with every request of these credentials, so further pages, filters, orders and counts cost no call. Needs the Defender permission Machine.Read.All. Null (with its error) when the listing fails, an argument is refused or the caller lacks the Defender scope; the other fields of the request still answer.",
  })
  async defenderMachines(
    @Args() { filter, orderBy, first, after }: DefenderMachinesArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<DefenderMachineConnection | null> {
    const lists = ctx.loaders.defenderRelations.lists;
    if (!lists) throw notConfigured("DEFENDER");
    // The cursor is checked before the listing is read: a refused cursor costs no call.
    let position: { key: string | number | null; id: string } | undefined;
    if (after !== null && after !== undefined) {
      const decoded = decodeCursor(after, viewDigest(filter, orderBy), lists.cursorKey);
      if (decoded === "invalid")
        throw badCursor(
          "not a cursor this usergraph issued (malformed, altered, or for another Defender tenant); start again without after",
        );
      if (decoded === "other-view")
        throw badCursor(
          "the cursor belongs to a list with another filter or order; page with the ones it came from, or start again without after",
        );
      position = decoded;
    }
    const index = await lists.fleet(ctx.deadline);
    const view = viewOf(index, filter, orderBy, ctx.reportUnknownEnum);
    const page = pageAfter(view, position, first ?? DEFENDER_MACHINES_DEFAULT_FIRST);
    const edges = page.rows.map((row) => ({
      cursor: encodeCursor(sortKey(row, view.field), row.id, view.digest, lists.cursorKey),
      node: toDefenderMachine(row.dto, ctx.reportUnknownEnum),
    }));
    return {
      totalCount: view.rows.length,
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: position !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      facets: selectsField(info, "facets") ? facetsOf(view) : NO_FACETS,
      listedAt: new Date(index.listedAt),
      complete: index.complete,
    };
  }
}
