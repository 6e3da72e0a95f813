import type { GraphQLResolveInfo } from "graphql";
import { Args, Ctx, FieldResolver, Info, Resolver, Root } from "type-graphql";
import type { Context } from "../../../context";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";
import { selectsField } from "../../../graphql/selects";
import type { DefenderAlertDto } from "../dto";
import { RELATION_DEFAULT_FIRST } from "../machines/machine.args";
import { DefenderMachine } from "../machines/machine.type";
import { machineById } from "../machines/user-machines.resolver";
import { DefenderUser } from "../users/user.type";
import { RelatedAlertsArgs } from "./alert.args";
import { toDefenderAlert } from "./alert.mapper";
import { alertKey, windowOf, type AlertKey } from "./alert.plan";
import { AlertSeverity, type AlertStatus } from "./alert.enums";
import { DefenderAlert } from "./alert.type";

const ALERTS_DESCRIPTION =
  " Needs the Defender permission Alert.Read.All. Null, with its error, when Defender fails or refuses; the other fields still answer.";

@Resolver(() => DefenderUser)
export class DefenderUserAlertsResolver {
  @FieldResolver(() => [DefenderAlert], {
    nullable: true,
    description:
      "Alerts whose related user is this account, most recently updated first. Planned: many users' alerts in one window come from one GET /api/alerts?$filter=lastUpdateTime ge … call grouped by related user; a few come from GET /api/users/{id}/alerts each (the request log names the plan)." +
      ALERTS_DESCRIPTION,
  })
  alerts(
    @Root() user: DefenderUser,
    @Args() args: RelatedAlertsArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): MaybePromise<DefenderAlert[] | null> {
    return relatedAlerts(ctx, info, "u", user.id, args);
  }
}

@Resolver(() => DefenderMachine)
export class DefenderMachineAlertsResolver {
  @FieldResolver(() => [DefenderAlert], {
    nullable: true,
    description:
      "Alerts on this machine, most recently updated first: planned like DefenderUser.alerts (the alert list grouped by machineId, or GET /api/machines/{id}/alerts each)." +
      ALERTS_DESCRIPTION,
  })
  alerts(
    @Root() machine: DefenderMachine,
    @Args() args: RelatedAlertsArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): MaybePromise<DefenderAlert[] | null> {
    return relatedAlerts(ctx, info, "m", machine.id, args);
  }
}

@Resolver(() => DefenderAlert)
export class DefenderAlertMachineResolver {
  @FieldResolver(() => DefenderMachine, {
    nullable: true,
    description: "The machine the alert is on (from machineId), planned like DefenderUser.mostPrevalentMachine. Needs Machine.Read.All.",
  })
  machine(@Root() alert: DefenderAlert, @Ctx() ctx: Context): MaybePromise<DefenderMachine | null> {
    return machineById(ctx, alert.machineId);
  }
}

function relatedAlerts(
  ctx: Context,
  info: GraphQLResolveInfo,
  kind: AlertKey["kind"],
  subject: string,
  { since, first, status, minSeverity }: RelatedAlertsArgs,
): MaybePromise<DefenderAlert[] | null> {
  // The store's entry holds every alert of the window (whichever plan served it): status and severity are
  // applied here, so dashboards asking "open", "high" or everything share one entry and one listing.
  const key = alertKey({ kind, subject, window: windowOf(since), evidence: selectsField(info, "evidence") });
  const statuses = status && status.length > 0 ? new Set<AlertStatus>(status) : undefined;
  const least = SEVERITY_RANK[minSeverity ?? AlertSeverity.UNSPECIFIED];
  return mapMaybe(ctx.loaders.defenderRelations.alerts.load(key), (list) => {
    if (list === null) return null;
    const size = first ?? RELATION_DEFAULT_FIRST;
    const sorted = newestFirst(list, since ?? null);
    // Without status or severity only the page is mapped, as before; with them every alert is (memoised per DTO).
    if (statuses === undefined && least === 0) return sorted.slice(0, size).map((dto) => toDefenderAlert(dto, ctx.reportUnknownEnum));
    return sorted
      .map((dto) => toDefenderAlert(dto, ctx.reportUnknownEnum))
      .filter((a) => (statuses === undefined || statuses.has(a.status)) && SEVERITY_RANK[a.severity] >= least)
      .slice(0, size);
  });
}

/** Severities in order; UNSPECIFIED (no value, or one usergraph does not know) is below every other. */
export const SEVERITY_RANK: Record<AlertSeverity, number> = {
  [AlertSeverity.UNSPECIFIED]: 0,
  [AlertSeverity.INFORMATIONAL]: 1,
  [AlertSeverity.LOW]: 2,
  [AlertSeverity.MEDIUM]: 3,
  [AlertSeverity.HIGH]: 4,
};

/** The exact window (the store's entry starts at the hour before `since`), most recently updated first. */
function newestFirst(alerts: readonly DefenderAlertDto[], since: Date | null): DefenderAlertDto[] {
  const start = since?.getTime() ?? -Infinity;
  const time = (a: DefenderAlertDto) => (typeof a.lastUpdateTime === "string" ? Date.parse(a.lastUpdateTime) : NaN);
  return alerts
    .filter((a) => since === null || time(a) >= start)
    .sort((a, b) => (time(b) || 0) - (time(a) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
