import { Args, Authorized, Ctx, Query, Resolver } from "type-graphql";
import { SOURCE_SCOPES } from "../auth/scopes";
import type { Context } from "../context";
import { EsetUserArgs, EsetUsersArgs } from "./eset-user.args";
import { toEsetUser } from "./eset-user.mapper";
import { EsetUser } from "./eset-user.type";

@Resolver(() => EsetUser)
export class EsetUserResolver {
  @Authorized(SOURCE_SCOPES.ESET)
  @Query(() => EsetUser, {
    nullable: true,
    description: "One ESET Connect user by uuid; null when ESET does not know it (404).",
  })
  esetUser(@Args() { uuid }: EsetUserArgs, @Ctx() ctx: Context): Promise<EsetUser | null> {
    return ctx.loaders.esetUser.load(uuid).then((dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null));
  }

  @Authorized(SOURCE_SCOPES.ESET)
  @Query(() => [EsetUser], {
    nullable: "items",
    description:
      "Several ESET users, in the order of `uuids`, fetched with one batchGetUsers call per 1000; an entry is null where ESET does not know the uuid or its lookup failed (then with an error whose path names the index).",
  })
  esetUsers(@Args() { uuids }: EsetUsersArgs, @Ctx() ctx: Context): Array<Promise<EsetUser | null>> {
    return uuids.map((uuid) =>
      ctx.loaders.esetUser.load(uuid).then((dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null)),
    );
  }
}
