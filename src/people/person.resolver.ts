import { Args, Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { hasScope } from "../auth/assert-scope";
import { MissingScopeError } from "../auth/missing-scope.error";
import { scopeOf } from "../auth/scopes";
import type { Context } from "../context";
import { DefenderUser } from "../sources/defender/users/user.type";
import { EsetUser } from "../sources/eset/users/user.type";
import { linkFinderFor } from "./link-finder";
import { UserLink } from "./link.type";
import { PersonArgs } from "./person.args";
import { Person } from "./person.type";

/** `person(ref:)`: both sides of one person. Each side is served or refused on its own. */
@Resolver(() => Person)
export class PersonResolver {
  @Query(() => Person, {
    nullable: true,
    description:
      'Who is this? Takes a UPN or e-mail ("alice@contoso.com") or a Windows account ("contoso\\alice"), finds the Defender accounts and ESET users it names, follows one hop of links from each to the other side, and returns both sides with the links. Null when no side the caller may read knows the person. Each side needs its scope; a side that fails nulls only its own field.',
  })
  async person(@Args() { ref }: PersonArgs, @Ctx() ctx: Context): Promise<Person | null> {
    // The core let the caller in with one of the scopes (fieldReads in register.ts); the side it lacks is not read.
    const defender = hasScope(ctx, "DEFENDER");
    const eset = hasScope(ctx, "ESET");
    const found = await linkFinderFor(ctx).person(ref, {
      defender: defender ? undefined : new MissingScopeError("DEFENDER", scopeOf("DEFENDER")),
      eset: eset ? undefined : new MissingScopeError("ESET", scopeOf("ESET")),
    });
    return found === null ? null : Object.assign(new Person(), { ref, found });
  }

  @FieldResolver(() => [DefenderUser], {
    nullable: true,
    description:
      "The person's Defender accounts: those the reference names, and those linked to the person's ESET users. Null, with an error, when Defender failed or the caller lacks defender:users:read.",
  })
  defenderUsers(@Root() person: Person): DefenderUser[] {
    return orThrow(person.found.defenderUsers);
  }

  @FieldResolver(() => [EsetUser], {
    nullable: true,
    description:
      "The person's ESET users: those carrying the reference as an identity or address (or, for DOMAIN\\user, matching it by the link rules), and those linked to the person's Defender accounts. Null, with an error, when ESET failed or the caller lacks eset:users:read.",
  })
  esetUsers(@Root() person: Person): EsetUser[] {
    return orThrow(person.found.esetUsers);
  }

  @FieldResolver(() => [UserLink], {
    nullable: true,
    description:
      "Every link between the person's ESET users and Defender accounts, strongest first. Null, with an error, when either side is.",
  })
  links(@Root() person: Person): UserLink[] {
    return orThrow(person.found.links);
  }
}

function orThrow<T>(value: T | Error): T {
  if (value instanceof Error) throw value;
  return value;
}
