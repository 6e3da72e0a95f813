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
  { since, first }: RelatedAlertsArgs,
): MaybePromise<DefenderAlert[] | null> {
  const key = alertKey({ kind, subject, window: windowOf(since), evidence: selectsField(info, "evidence") });
  return mapMaybe(ctx.loaders.defenderRelations.alerts.load(key), (list) =>
    list === null
      ? null
      : newestFirst(list, since ?? null)
          .slice(0, first ?? RELATION_DEFAULT_FIRST)
          .map((dto) => toDefenderAlert(dto, ctx.reportUnknownEnum)),
  );
}

/** The exact window (the store's entry starts at the hour before `since`), most recently updated first. */
function newestFirst(alerts: readonly DefenderAlertDto[], since: Date | null): DefenderAlertDto[] {
  const start = since?.getTime() ?? -Infinity;
  const time = (a: DefenderAlertDto) => (typeof a.lastUpdateTime === "string" ? Date.parse(a.lastUpdateTime) : NaN);
  return alerts
    .filter((a) => since === null || time(a) >= start)
    .sort((a, b) => (time(b) || 0) - (time(a) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
