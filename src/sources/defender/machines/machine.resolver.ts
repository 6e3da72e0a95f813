import { Args, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import type { Context } from "../../../context";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";
import type { DefenderMachineDto } from "../dto";
import { toDefenderUser } from "../users/user.mapper";
import { DefenderUser } from "../users/user.type";
import { DefenderMachineArgs, RELATION_DEFAULT_FIRST, RelationListArgs } from "./machine.args";
import { toDefenderMachine } from "./machine.mapper";
import { DefenderMachine } from "./machine.type";

/** Thin: the request's loader, map (the part's scope is checked before, src/auth/part-scopes.ts). Every relation is nullable and fails alone (its error names the permission). */
@Resolver(() => DefenderMachine)
export class DefenderMachineResolver {
  @Query(() => DefenderMachine, {
    nullable: true,
    description:
      "One Defender machine by device id or computer name (GET /api/machines/{id}, or the cached fleet listing); null when Defender does not know it (404). Needs the Defender permission Machine.Read.All.",
  })
  defenderMachine(@Args() { id }: DefenderMachineArgs, @Ctx() ctx: Context): MaybePromise<DefenderMachine | null> {
    return mapMaybe(ctx.loaders.defenderRelations.machine.load(id), toMachine(ctx));
  }

  @FieldResolver(() => [DefenderUser], {
    nullable: true,
    description:
      "The users who logged on to this machine (GET /api/machines/{id}/logonusers, one call per machine, cached; the users are cached as users too). Needs the Defender permission User.Read.All. Null, with its error, when that call fails; the machine's other fields still answer.",
  })
  loggedOnUsers(
    @Root() machine: DefenderMachine,
    @Args() { first }: RelationListArgs,
    @Ctx() ctx: Context,
  ): MaybePromise<DefenderUser[] | null> {
    return mapMaybe(ctx.loaders.defenderRelations.logonUsers.load(machine.id), (users) =>
      users === null ? [] : users.slice(0, first ?? RELATION_DEFAULT_FIRST).map(toDefenderUser),
    );
  }
}

export function toMachine(ctx: Context): (dto: DefenderMachineDto | null) => DefenderMachine | null {
  return (dto) => (dto ? toDefenderMachine(dto, ctx.reportUnknownEnum) : null);
}
