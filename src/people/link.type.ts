import { Field, ObjectType } from "type-graphql";
import { DefenderUser } from "../sources/defender/users/user.type";
import { LinkRule } from "./link-rule.enum";
import { EsetUser } from "../sources/eset/users/user.type";

@ObjectType({
  description: "One reason an ESET user and a Defender account are taken for the same person: a rule and the two values it compared.",
})
export class LinkReason {
  @Field(() => LinkRule, { description: "The rule that matched." })
  rule!: LinkRule;

  @Field(() => String, {
    description:
      'Where the ESET value is: "identities[1].userName", "identities[0].providerReference", "primaryEmailAddress" or "proxyEmailAddresses[0]".',
  })
  esetField!: string;

  @Field(() => String, { description: 'The ESET value compared, as ESET sent it (without an "smtp:" prefix), e.g. "alice@contoso.com".' })
  esetValue!: string;

  @Field(() => String, {
    description: 'The Defender value compared: the account id, or accountDomain\\accountName, e.g. "contoso\\alice".',
  })
  defenderValue!: string;
}

@ObjectType({
  description:
    "An ESET user and a Defender account that usergraph takes for one person, with every reason it found, so an analyst can judge the link.",
})
export class UserLink {
  @Field(() => EsetUser, { description: "The ESET side." })
  esetUser!: EsetUser;

  @Field(() => DefenderUser, { description: "The Defender side." })
  defenderUser!: DefenderUser;

  @Field(() => LinkRule, { description: "The strongest rule among matchedOn (its first entry)." })
  strongestRule!: LinkRule;

  @Field(() => [LinkReason], { description: "Every rule that matched, strongest first; never empty." })
  matchedOn!: LinkReason[];
}
