import { Args, Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../context";
import type { UnknownEnumReporter } from "../graphql/normalize";
import { AlertSeverity } from "../sources/defender/alerts/alert.enums";
import { userEvidence } from "../sources/defender/alerts/alert.mapper";
import { encodeRiskCursor } from "../sources/defender/risk/risk.cursor";
import { riskKey, startAfter, type RiskRow, type RiskView } from "../sources/defender/risk/risk-view";
import { RISK_DEFAULT_FIRST } from "../sources/defender/risk/users-at-risk.args";
import { rankedUsersAtRisk } from "../sources/defender/risk/users-at-risk.resolver";
import { toUserRisk } from "../sources/defender/risk/user-risk.type";
import { ProtectionStatus } from "../sources/eset/enums";
import type { EsetRoster } from "../sources/eset/user-list/user-roster.listing";
import type { EsetUser } from "../sources/eset/users/user.type";
import { candidatesOf, esetNameIndex } from "./eset-roster-index";
import { LinkRule } from "./link-rule.enum";
import { accountEvidence, matchReasons, RULE_ORDER, type LinkReasonData } from "./link-rules";
import type { LinkReason } from "./link.type";
import { PeopleAtRiskArgs } from "./people-at-risk.args";
import { PersonRisk, PersonRiskConnection } from "./person-risk.type";
import { LINK_FANOUT } from "./prices";

/** Weakest first; UNSPECIFIED (ESET did not say) counts as weaker than any protection it reports. */
const PROTECTION_RANK: Record<ProtectionStatus, number> = {
  [ProtectionStatus.UNPROTECTED]: 0,
  [ProtectionStatus.UNSPECIFIED]: 1,
  [ProtectionStatus.PENDING]: 2,
  [ProtectionStatus.PARTIALLY_PROTECTED]: 3,
  [ProtectionStatus.FULLY_PROTECTED]: 4,
};

interface JoinedRow {
  row: RiskRow;
  esetUsers: EsetUser[];
  matchedOn: LinkReason[];
  weakest: ProtectionStatus | null;
}

/** The join of a ranking and a roster, computed once per pair (both are kept while fresh). */
const joins = new WeakMap<RiskView, WeakMap<EsetRoster, JoinedRow[]>>();

function joined(view: RiskView, roster: EsetRoster, report: UnknownEnumReporter): JoinedRow[] {
  let perRoster = joins.get(view);
  if (perRoster === undefined) joins.set(view, (perRoster = new WeakMap()));
  let rows = perRoster.get(roster);
  if (rows !== undefined) return rows;
  const index = esetNameIndex(roster, report);
  rows = view.rows.map((row) => {
    const account = { id: row.id, accountName: row.user.userName, accountDomain: row.user.domainName };
    // Defender's own word from the account's alerts in the window: User evidence pairing it with a UPN.
    const evidence = accountEvidence(userEvidence(row.all));
    const esetUsers: EsetUser[] = [];
    const reasons = new Map<string, LinkReasonData>();
    for (const user of candidatesOf(index, account, evidence)) {
      const found = matchReasons(user, account, evidence);
      if (found.length === 0) continue;
      esetUsers.push(user);
      for (const r of found) reasons.set(`${r.rule}\0${r.esetField}\0${r.esetValue}\0${r.defenderValue}`, r);
    }
    const matchedOn = [...reasons.values()]
      .sort((a, b) => RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule))
      .map((r) => ({ ...r, rule: LinkRule[r.rule] }));
    let weakest: ProtectionStatus | null = null;
    for (const u of esetUsers)
      if (weakest === null || PROTECTION_RANK[u.protectionStatus] < PROTECTION_RANK[weakest]) weakest = u.protectionStatus;
    return { row, esetUsers, matchedOn, weakest };
  });
  perRoster.set(roster, rows);
  return rows;
}

/** `peopleAtRisk`: defenderUsersAtRisk's ranking joined to ESET's kept user list, filtered on the join. */
@Resolver()
export class PeopleAtRiskResolver {
  @Query(() => PersonRiskConnection, {
    nullable: true,
    description:
      "People at risk, riskiest first (the order of defenderUsersAtRisk): each Defender account with counted alerts since `since` joined to its ESET users by the link rules (alert evidence first, then UPN, e-mail), with the weakest ESET protection among them. Filter to the poorly protected (esetProtection) or to those ESET does not know (withoutEsetUser: the coverage gap). Served from the kept alert listing (at most 2 Defender calls) and ESET's kept user list (GET /v1/users at 1,000 a page, at most 10 calls), not one ESET search per person; warm, no call. Needs both scopes. Null (with its error) when either listing fails (a join without ESET's list would call everyone unprotected), an argument is refused or a scope is missing; the other fields still answer.",
  })
  async peopleAtRisk(
    @Args() { since, minSeverity, esetProtection, withoutEsetUser, first, after }: PeopleAtRiskArgs,
    @Ctx() ctx: Context,
  ): Promise<PersonRiskConnection | null> {
    const protection = esetProtection && esetProtection.length > 0 ? new Set(esetProtection) : undefined;
    const without = withoutEsetUser ?? null;
    const extra = { protection: protection ? [...protection].sort() : null, without };
    const args = { since, minSeverity: minSeverity ?? AlertSeverity.MEDIUM, statuses: null };
    // Both listings at once: neither waits for the other.
    const roster = ctx.loaders.esetRoster();
    roster.catch(() => undefined);
    const { listing, view, position, digest, cursorKey } = await rankedUsersAtRisk(ctx, args, after, "people-at-risk", extra);
    const esetList = await roster;
    const all = joined(view, esetList, ctx.reportUnknownEnum).filter(
      (p) =>
        (without === null || (p.esetUsers.length === 0) === without) &&
        (protection === undefined || (p.weakest !== null && protection.has(p.weakest))),
    );
    const start = startAfter(all, (p) => p.row, position);
    const size = first ?? RISK_DEFAULT_FIRST;
    const rows = all.slice(start, start + size);
    ctx.loaders.defenderRelations.holdAlerts(Promise.resolve(rows.flatMap((p) => p.row.all)));
    const edges = rows.map((p) => ({
      cursor: encodeRiskCursor("people-at-risk", riskKey(p.row), p.row.id, digest, cursorKey),
      node: Object.assign(new PersonRisk(), {
        defender: toUserRisk(p.row),
        esetUsers: p.esetUsers.slice(0, LINK_FANOUT),
        matchedOn: p.matchedOn,
        weakestProtection: p.weakest,
      }),
    }));
    return {
      totalCount: all.length,
      edges,
      pageInfo: {
        hasNextPage: start + size < all.length,
        hasPreviousPage: position !== undefined,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      listedAt: new Date(listing.listedAt),
      esetListedAt: new Date(esetList.listedAt),
      complete: listing.complete && esetList.complete,
    };
  }
}
