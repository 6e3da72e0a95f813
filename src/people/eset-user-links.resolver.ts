import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../context";
import { DefenderUser } from "../sources/defender/users/user.type";
import { EsetUser } from "../sources/eset/users/user.type";
import { linkFinderFor } from "./link-finder";
import { UserLink } from "./link.type";

/** ESET → Defender links: opt-in fields that cost Defender calls only when asked for. They need the Defender scope. */
@Resolver(() => EsetUser)
export class EsetUserLinksResolver {
  // Nullable: this field reaches Defender, so Defender failing (or the scope missing) must null it alone,
  // never the ESET user it hangs on (issue 22; DESIGN.md: every relation field is nullable and fails alone).
  @FieldResolver(() => [DefenderUser], {
    nullable: true,
    description:
      "The Defender accounts of this person: candidate ids derived from the ESET identities (DOMAIN\\user, UPNs) and e-mail addresses, one Defender GET each (at most 8, cached), kept only on an exact match (see defenderLinks for why). Needs defender:users:read. Null, with an error, when Defender failed or the caller lacks defender:users:read; the user's other fields are unaffected.",
  })
  async defenderUsers(@Root() user: EsetUser, @Ctx() ctx: Context): Promise<DefenderUser[]> {
    return (await linkFinderFor(ctx).linksOfEsetUser(user)).map((l) => l.defenderUser);
  }

  @FieldResolver(() => [UserLink], {
    nullable: true,
    description:
      "defenderUsers with the reasons (matchedOn) for each, strongest link first. Null, with an error, when Defender failed or the caller lacks defender:users:read; the user's other fields are unaffected.",
  })
  async defenderLinks(@Root() user: EsetUser, @Ctx() ctx: Context): Promise<UserLink[]> {
    return linkFinderFor(ctx).linksOfEsetUser(user);
  }
}
