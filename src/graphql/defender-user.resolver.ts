import { Args, Authorized, Ctx, Query, Resolver } from "type-graphql";
import { SOURCE_SCOPES } from "../auth/scopes";
import type { Context } from "../context";
import { DefenderUserArgs, DefenderUsersArgs } from "./defender-user.args";
import { toDefenderUser } from "./defender-user.mapper";
import { DefenderUser } from "./defender-user.type";

@Resolver(() => DefenderUser)
export class DefenderUserResolver {
  @Authorized(SOURCE_SCOPES.DEFENDER)
  @Query(() => DefenderUser, {
    nullable: true,
    description: "One Defender for Endpoint user by user name; null when Defender does not know it (404).",
  })
  defenderUser(@Args() { id }: DefenderUserArgs, @Ctx() ctx: Context): Promise<DefenderUser | null> {
    return ctx.loaders.defenderUser.load(id).then((dto) => (dto ? toDefenderUser(dto) : null));
  }

  @Authorized(SOURCE_SCOPES.DEFENDER)
  @Query(() => [DefenderUser], {
    nullable: "items",
    description:
      "Several Defender users, in the order of `ids`; an entry is null where Defender does not know the id or its lookup failed (then with an error whose path names the index).",
  })
  defenderUsers(@Args() { ids }: DefenderUsersArgs, @Ctx() ctx: Context): Array<Promise<DefenderUser | null>> {
    return ids.map((id) => ctx.loaders.defenderUser.load(id).then((dto) => (dto ? toDefenderUser(dto) : null)));
  }
}
