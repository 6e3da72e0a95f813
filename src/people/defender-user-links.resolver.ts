import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../context";
import { DefenderUser } from "../sources/defender/users/user.type";
import { EsetUser } from "../sources/eset/users/user.type";
import { linkFinderFor } from "./link-finder";
import { UserLink } from "./link.type";

/** Defender → ESET links: opt-in fields that cost ESET calls only when asked for. They need the ESET scope. */
@Resolver(() => DefenderUser)
export class DefenderUserLinksResolver {
  // Nullable: this field reaches ESET, so ESET failing (or the scope missing) must null it alone, never the
  // account it hangs on (issue 22; DESIGN.md: every relation field is nullable and fails alone).
  @FieldResolver(() => [EsetUser], {
    nullable: true,
    description:
      'The ESET users of this person: ESET\'s list searched by e-mail ("user@domain." for DOMAIN\\user, "user@" for a bare name; one call each, cached), then only users whose identities or addresses match exactly (see esetLinks for why). Needs eset:users:read. Null, with an error, when ESET failed or the caller lacks eset:users:read; the account\'s other fields are unaffected.',
  })
  async esetUsers(@Root() account: DefenderUser, @Ctx() ctx: Context): Promise<EsetUser[]> {
    return (await linkFinderFor(ctx).linksOfDefenderUser(account)).map((l) => l.esetUser);
  }

  @FieldResolver(() => [UserLink], {
    nullable: true,
    description:
      "esetUsers with the reasons (matchedOn) for each, strongest link first. Null, with an error, when ESET failed or the caller lacks eset:users:read; the account's other fields are unaffected.",
  })
  async esetLinks(@Root() account: DefenderUser, @Ctx() ctx: Context): Promise<UserLink[]> {
    return linkFinderFor(ctx).linksOfDefenderUser(account);
  }
}
