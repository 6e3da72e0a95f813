import { Directive, Field, ID, ObjectType } from "type-graphql";
import { CloudOffice } from "./cloud-office.type";
import { ProtectionStatus } from "../enums";
import { Identity } from "./identity.type";

// The federation entity key (used only in subgraph mode; graphql-js's printSchema leaves it out of schema/schema.graphql).
@Directive('@key(fields: "uuid")')
@ObjectType({
  description:
    "A physical user known to ESET Connect user management (ESET v1User). Every user can have multiple identities and multiple accounts; users are typically synchronised from Microsoft 365 or Google Workspace by ESET Cloud Office Security.",
})
export class EsetUser {
  @Field(() => ID, {
    description: "Unique identifier of the user. Usually an RFC 4122 UUID, but ESET says not to rely on that: treat it as opaque.",
  })
  uuid!: string;

  @Field(() => String, {
    nullable: true,
    description: "The name displayed in address books, usually the full name (first, middle and last names). Example: John Doe.",
  })
  displayName!: string | null;

  @Field(() => String, { nullable: true, description: "The user's SMTP address, for example jeff@contoso.com." })
  primaryEmailAddress!: string | null;

  @Field(() => [String], { description: "E-mail aliases of the user." })
  proxyEmailAddresses!: string[];

  @Field(() => [String], { description: "Phone numbers of the user (ITU format, at most 15 characters each)." })
  phoneNumbers!: string[];

  @Field(() => String, {
    nullable: true,
    description: "The department the user belongs to; usable for organisational categorisation and role-based access control.",
  })
  department!: string | null;

  @Field(() => String, { nullable: true, description: "The user's job title: their role or position within the organisation." })
  jobTitle!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The physical office location or workplace where the user typically works: an office, a remote location or another place.",
  })
  officeLocation!: string | null;

  @Field(() => [Identity], { description: "Identities the user signs in with (AD, Entra ID, Google, Facebook, local)." })
  identities!: Identity[];

  @Field(() => CloudOffice, { nullable: true, description: "Cloud office origin of the user; null when ESET sent none." })
  cloudOffice!: CloudOffice | null;

  @Field(() => ProtectionStatus, { description: "Aggregated status of the user's protection." })
  protectionStatus!: ProtectionStatus;

  @Field(() => [ID], {
    description:
      "Known active products of the user, from inside and outside of the ESET portfolio. int64 on the wire; here exact decimal strings.",
  })
  activeProductIds!: string[];

  @Field(() => [ID], {
    description: "User groups the user belongs to. ESET computes membership with eventual consistency.",
  })
  userGroupUuids!: string[];
}
