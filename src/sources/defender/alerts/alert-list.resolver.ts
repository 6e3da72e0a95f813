import type { GraphQLResolveInfo } from "graphql";
import { Args, Ctx, Info, Query, Resolver } from "type-graphql";
import type { Context } from "../../../context";
import { badCursor } from "../../../graphql/bad-cursor";
import { selectsField, selectsPath } from "../../../graphql/selects";
import { notConfigured } from "../../../upstream/not-configured";
import { DefenderAlertConnection } from "./alert-connection.type";
import { toODataFilter } from "./alert-filter.mapper";
import { DEFENDER_ALERTS_DEFAULT_FIRST, DefenderAlertsArgs } from "./alert-list.args";
import { decodeCursor, encodeCursor, filterDigest } from "./alert-list.cursor";
import { toDefenderAlert } from "./alert.mapper";
import type { DefenderAlertDto } from "../dto";

/** Selecting any of these reads the whole filtered set (alert-count.listing.ts). */
const COUNT_FIELDS = ["totalCount", "facets", "countedAt"];

/** Pages through GET /api/alerts with OData: `$filter` from the filter, `$top` = first + 1 (to know whether more follow), `$skip` from the cursor. */
@Resolver()
export class DefenderAlertListResolver {
  @Query(() => DefenderAlertConnection, {
    nullable: true,
    description:
      "Defender alerts matching a filter, a page at a time (GET /api/alerts with $filter/$top/$skip, and $expand=evidence when evidence is selected): one Defender call a page. Selecting totalCount or facets reads the whole set instead (with createdSince or updatedSince: the alert window of the fleet views, shared with them; otherwise the filtered set, GET /api/alerts?$filter=…&$top=10000; at most 5 calls, kept for the Defender cache TTL), which also serves the page; first: 0 then costs no page call. Needs the Defender permission Alert.Read.All. Null (with its error) when Defender fails, an argument is refused or the caller lacks the Defender scope; the other fields of the request still answer.",
  })
  async defenderAlerts(
    @Args() { filter, first, after }: DefenderAlertsArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<DefenderAlertConnection | null> {
    const relations = ctx.loaders.defenderRelations;
    const lists = relations.lists;
    if (!lists) throw notConfigured("DEFENDER");
    const odata = toODataFilter(filter);
    const digest = filterDigest(odata);
    let skip = 0;
    if (after !== null && after !== undefined) {
      const position = decodeCursor(after, digest, lists.cursorKey);
      if (position === "invalid")
        throw badCursor(
          "not a cursor this usergraph issued (malformed, altered, or for another Defender tenant); start again without after",
        );
      if (position === "other-filter")
        throw badCursor(
          "the cursor belongs to a list with another filter; page with the filter it came from, or start again without after",
        );
      skip = position;
    }
    const size = first ?? DEFENDER_ALERTS_DEFAULT_FIRST;
    const evidence = selectsPath(info, ["edges", "node", "evidence"]);
    const counting = COUNT_FIELDS.some((name) => selectsField(info, name));
    const counts = counting ? await lists.alertCounts(odata, filter, evidence, ctx.deadline, ctx.reportUnknownEnum) : undefined;
    // The request that listed the filtered set serves its page from it: the page is a slice of the same
    // Defender order $skip pages through. Otherwise (counts kept from an earlier request) one call a page.
    const listed = counts?.alerts;
    const fromListing =
      listed !== undefined && (counts!.evidence || !evidence) && (counts!.complete || skip + size + 1 <= listed.length)
        ? { items: listed.slice(skip, skip + size + 1) }
        : undefined;
    // No alert asked (first: 0): no page call when the counts say whether alerts follow, or when nobody asks.
    const noPage = size === 0 && (counts?.complete === true || !selectsPath(info, ["pageInfo", "hasNextPage"]));
    const asked = fromListing
      ? Promise.resolve(fromListing)
      : noPage
        ? Promise.resolve({ items: [] as DefenderAlertDto[], more: counts?.complete === true && counts.count > skip })
        : lists.client.listAlerts({ filter: odata, top: size + 1, skip, expandEvidence: evidence }, ctx.deadline);
    // Held at once, so link fields elsewhere in the request can wait for its evidence (LinkRule.ALERT_EVIDENCE).
    relations.holdAlerts(asked.then((p) => p.items.slice(0, size)));
    const page = await asked;
    const items = page.items.slice(0, size);
    const edges = items.map((dto, i) => ({
      cursor: encodeCursor(skip + i + 1, digest, lists.cursorKey),
      node: toDefenderAlert(dto, ctx.reportUnknownEnum),
    }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.items.length > size || ("more" in page && page.more === true),
        hasPreviousPage: skip > 0,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      totalCount: counts?.complete ? counts.count : null,
      facets: counts?.complete ? counts.facets : null,
      countedAt: counts ? new Date(counts.listedAt) : null,
    };
  }
}
