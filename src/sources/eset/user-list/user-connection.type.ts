import { Field, Int, ObjectType } from "type-graphql";
import { EsetUser } from "../users/user.type";
import { PageInfo } from "../../../graphql/page-info.type";

@ObjectType({ description: "One ESET user in a list, with the cursor that continues the list after it." })
export class EsetUserEdge {
  @Field(() => String, { description: "Pass as after: to continue after this user (with the same filter). Opaque." })
  cursor!: string;

  @Field(() => EsetUser, {
    nullable: true,
    description:
      "The user. Null only when a non-null field selected inside it failed; the error's path says which. The rest of the page is unaffected. Fields that reach Defender (defenderUsers, defenderLinks) are nullable and fail alone, so they never null it.",
  })
  node!: EsetUser | null;
}

@ObjectType({ description: "A page of ESET users (GET /v1/users), Relay-style." })
export class EsetUserConnection {
  @Field(() => [EsetUserEdge], { description: "The users of this page, in ESET's order, each with its cursor." })
  edges!: EsetUserEdge[];

  @Field(() => PageInfo, { description: "Whether more users follow, and the cursors to continue from." })
  pageInfo!: PageInfo;

  @Field(() => Int, {
    nullable: true,
    description: "How many users match the filter across all pages (ESET's totalSize); null when ESET did not say.",
  })
  totalCount!: number | null;
}
