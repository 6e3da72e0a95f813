import { Args, Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../../../context";
import { assertListWithin } from "../../../limits/list-limit";
import { DEFENDER_USER_IDS } from "../prices";
import { DefenderUserArgs, DefenderUsersArgs } from "./user.args";
import { toDefenderUser } from "./user.mapper";
import { DefenderUser } from "./user.type";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";

const toUser = (dto: Parameters<typeof toDefenderUser>[0] | null): DefenderUser | null => (dto ? toDefenderUser(dto) : null);

/** Thin: load through the request's loader, map (the part's scope is checked before, src/auth/part-scopes.ts). Cache hits answer synchronously. */
@Resolver(() => DefenderUser)
export class DefenderUserResolver {
  @Query(() => DefenderUser, {
    nullable: true,
    description: "One Defender for Endpoint user by user name; null when Defender does not know it (404).",
  })
  defenderUser(@Args() { id }: DefenderUserArgs, @Ctx() ctx: Context): MaybePromise<DefenderUser | null> {
    return mapMaybe(ctx.loaders.defenderUser.load(id), toUser);
  }

  @Query(() => [DefenderUser], {
    nullable: "itemsAndList",
    description:
      "Several Defender users, in the order of `ids`; an entry is null where Defender does not know the id or its lookup failed (then with an error whose path names the index). The whole list is null (with its error) on a refused argument or a missing scope, leaving the other fields of the request intact.",
  })
  defenderUsers(@Args() { ids }: DefenderUsersArgs, @Ctx() ctx: Context): Array<MaybePromise<DefenderUser | null>> {
    assertListWithin(ctx.maxListIds, "defenderUsers", DEFENDER_USER_IDS, ids.length);
    return ids.map((id) => mapMaybe(ctx.loaders.defenderUser.load(id), toUser));
  }
}
