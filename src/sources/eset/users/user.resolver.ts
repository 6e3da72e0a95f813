import { Args, Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../../../context";
import { assertListWithin } from "../../../limits/list-limit";
import { ESET_USER_UUIDS } from "../prices";
import { EsetUserArgs, EsetUsersArgs } from "./user.args";
import { toEsetUser } from "./user.mapper";
import { EsetUser } from "./user.type";
import { mapMaybe, type MaybePromise } from "../../../graphql/maybe-promise";

/** Thin: load through the request's loader, map (the part's scope is checked before, src/auth/part-scopes.ts). Cache hits answer synchronously. */
@Resolver(() => EsetUser)
export class EsetUserResolver {
  @Query(() => EsetUser, {
    nullable: true,
    description: "One ESET Connect user by uuid; null when ESET does not know it (404).",
  })
  esetUser(@Args() { uuid }: EsetUserArgs, @Ctx() ctx: Context): MaybePromise<EsetUser | null> {
    return mapMaybe(ctx.loaders.esetUser.load(uuid), (dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null));
  }

  @Query(() => [EsetUser], {
    nullable: "itemsAndList",
    description:
      "Several ESET users, in the order of `uuids`, fetched with one batchGetUsers call per 1000; an entry is null where ESET does not know the uuid or its lookup failed (then with an error whose path names the index). The whole list is null (with its error) on a refused argument or a missing scope, leaving the other fields of the request intact.",
  })
  esetUsers(@Args() { uuids }: EsetUsersArgs, @Ctx() ctx: Context): Array<MaybePromise<EsetUser | null>> {
    assertListWithin(ctx.maxListIds, "esetUsers", ESET_USER_UUIDS, uuids.length);
    return uuids.map((uuid) => mapMaybe(ctx.loaders.esetUser.load(uuid), (dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null)));
  }
}
