import { Args, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../../../context";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";
import { DefenderUser } from "../users/user.type";
import { RELATION_DEFAULT_FIRST, RelationListArgs } from "./machine.args";
import { toDefenderMachine } from "./machine.mapper";
import { toMachine } from "./machine.resolver";
import { DefenderMachine } from "./machine.type";

/** A Defender user's machines: by the ids the user entity names, and the user's own machine list. */
@Resolver(() => DefenderUser)
export class DefenderUserMachinesResolver {
  @FieldResolver(() => DefenderMachine, {
    nullable: true,
    description:
      "The machine this user logs on to most (from mostPrevalentMachineId): from the fleet listing when many are asked at once (one call for a whole dashboard), else GET /api/machines/{id}. Needs Machine.Read.All. Null when the user names none, Defender does not know it, or the lookup failed (then with its error).",
  })
  mostPrevalentMachine(@Root() user: DefenderUser, @Ctx() ctx: Context): MaybePromise<DefenderMachine | null> {
    return machineById(ctx, user.mostPrevalentMachineId);
  }

  @FieldResolver(() => DefenderMachine, {
    nullable: true,
    description:
      "The machine this user logs on to least (from leastPrevalentMachineId); planned and failing like mostPrevalentMachine. Needs Machine.Read.All.",
  })
  leastPrevalentMachine(@Root() user: DefenderUser, @Ctx() ctx: Context): MaybePromise<DefenderMachine | null> {
    return machineById(ctx, user.leastPrevalentMachineId);
  }

  @FieldResolver(() => [DefenderMachine], {
    nullable: true,
    description:
      "The machines this user logged on to (GET /api/users/{id}/machines, one call per user, cached); [] for a user Defender does not know. Defender's current docs ask Machine.ReadWrite.All for this endpoint. Null, with its error, when the call fails; the user's other fields still answer.",
  })
  machines(@Root() user: DefenderUser, @Args() { first }: RelationListArgs, @Ctx() ctx: Context): MaybePromise<DefenderMachine[] | null> {
    return mapMaybe(ctx.loaders.defenderRelations.userMachines.load(user.id), (list) =>
      (list ?? []).slice(0, first ?? RELATION_DEFAULT_FIRST).map((dto) => toDefenderMachine(dto, ctx.reportUnknownEnum)),
    );
  }
}

export function machineById(ctx: Context, id: string | null): MaybePromise<DefenderMachine | null> {
  if (id === null) return null;
  return mapMaybe(ctx.loaders.defenderRelations.machine.load(id), toMachine(ctx));
}
