import { Args, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../../context";
import { badCursor } from "../../../graphql/bad-cursor";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";
import { notConfigured } from "../../../upstream/not-configured";
import { windowOf } from "../alerts/alert.plan";
import { toDefenderAlert } from "../alerts/alert.mapper";
import { AlertSeverity } from "../alerts/alert.enums";
import { DefenderAlert } from "../alerts/alert.type";
import { isValidDefenderId } from "../id-rules";
import { RELATION_DEFAULT_FIRST, RelationListArgs } from "../machines/machine.args";
import { toDefenderUser } from "../users/user.mapper";
import { DefenderUser } from "../users/user.type";
import { decodeRiskCursor, encodeRiskCursor, type RiskList } from "./risk.cursor";
import { riskDigest, riskKey, riskViewOf, startAfter, type RiskArgs, type RiskKey, type RiskView } from "./risk-view";
import type { RiskListing } from "./risk.listing";
import { RISK_DEFAULT_FIRST, UsersAtRiskArgs } from "./users-at-risk.args";
import { DefenderUserRisk, DefenderUserRiskConnection, toUserRisk } from "./user-risk.type";

/**
 * The ranked accounts of a window for one request: the cursor checked first (a refused cursor costs no
 * call), then the kept listing read (or listed), then the view. `extra` joins the digest (peopleAtRisk's
 * own filters), so a cursor of one list or filter is refused by another.
 */
export async function rankedUsersAtRisk(
  ctx: Context,
  args: RiskArgs,
  after: string | null | undefined,
  list: RiskList,
  extra: Record<string, unknown> = {},
): Promise<{ listing: RiskListing; view: RiskView; position?: { key: RiskKey; id: string }; digest: string; cursorKey: Buffer }> {
  const lists = ctx.loaders.defenderRelations.lists;
  if (!lists) throw notConfigured("DEFENDER");
  const digest = riskDigest(args, extra);
  let position: { key: RiskKey; id: string } | undefined;
  if (after !== null && after !== undefined) {
    const decoded = decodeRiskCursor(list, after, digest, lists.cursorKey);
    if (decoded === "invalid")
      throw badCursor("not a cursor this usergraph issued (malformed, altered, or for another Defender tenant); start again without after");
    if (decoded === "other-view")
      throw badCursor("the cursor belongs to a list with other arguments; page with the ones it came from, or start again without after");
    position = decoded;
  }
  const listing = await lists.risk(windowOf(args.since), ctx.deadline);
  return { listing, view: riskViewOf(listing, args, ctx.reportUnknownEnum), position, digest, cursorKey: lists.cursorKey };
}

/** `defenderUsersAtRisk`: the ranking (risk-view.ts) a page at a time, and each account's alerts and user. */
@Resolver(() => DefenderUserRisk)
export class DefenderUsersAtRiskResolver {
  @Query(() => DefenderUserRiskConnection, {
    nullable: true,
    description:
      "Defender accounts at risk, riskiest first: the alerts updated since `since` (at least minSeverity, of the statuses asked) grouped by their relatedUser, ordered by highest severity, then open alerts (NEW, IN_PROGRESS), then the latest alert; id breaks ties. Served from one alert listing (GET /api/alerts?$filter=lastUpdateTime ge …&$top=10000&$expand=evidence, following @odata.nextLink to the end, at most 5 pages) kept for the Defender cache TTL and shared by every request of these credentials: further pages and arguments cost no call. Selecting `user` costs a GET /api/users/{id} per account. Needs Alert.Read.All. Null (with its error) when the listing fails, an argument is refused or the caller lacks the Defender scope; the other fields still answer.",
  })
  async defenderUsersAtRisk(
    @Args() { since, minSeverity, status, first, after }: UsersAtRiskArgs,
    @Ctx() ctx: Context,
  ): Promise<DefenderUserRiskConnection | null> {
    const args = { since, minSeverity: minSeverity ?? AlertSeverity.LOW, statuses: status };
    const { listing, view, position, digest, cursorKey } = await rankedUsersAtRisk(ctx, args, after, "users-at-risk");
    const start = startAfter(view.rows, (r) => r, position);
    const size = first ?? RISK_DEFAULT_FIRST;
    const rows = view.rows.slice(start, start + size);
    // The page's alerts are at hand for link fields under it (LinkRule.ALERT_EVIDENCE), whatever they select.
    ctx.loaders.defenderRelations.holdAlerts(Promise.resolve(rows.flatMap((r) => r.all)));
    const edges = rows.map((row) => ({
      cursor: encodeRiskCursor("users-at-risk", riskKey(row), row.id, digest, cursorKey),
      node: toUserRisk(row),
    }));
    return {
      totalCount: view.rows.length,
      edges,
      pageInfo: {
        hasNextPage: start + size < view.rows.length,
        hasPreviousPage: position !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      listedAt: new Date(listing.listedAt),
      complete: listing.complete,
    };
  }

  @FieldResolver(() => [DefenderAlert], {
    description: "The counted alerts, most recently updated first, from the listing (no call).",
  })
  alerts(@Root() risk: DefenderUserRisk, @Args() { first }: RelationListArgs, @Ctx() ctx: Context): DefenderAlert[] {
    return risk.row.alerts.slice(0, first ?? RELATION_DEFAULT_FIRST).map((dto) => toDefenderAlert(dto, ctx.reportUnknownEnum));
  }

  @FieldResolver(() => DefenderUser, {
    nullable: true,
    description:
      "The Defender account itself (GET /api/users/{id}, through the user cache): one call per account when not cached. Null when Defender does not know it.",
  })
  user(@Root() risk: DefenderUserRisk, @Ctx() ctx: Context): MaybePromise<DefenderUser | null> {
    if (!isValidDefenderId(risk.id)) return null;
    return mapMaybe(ctx.loaders.defenderUser.load(risk.id), (dto) => (dto ? toDefenderUser(dto) : null));
  }
}
