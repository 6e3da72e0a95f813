import { Field, ObjectType } from "type-graphql";
import { IdentityProviderType, IdentityReferenceFormat } from "../enums";
import { DateTimeScalar } from "../../../graphql/scalars";

@ObjectType({
  description:
    "An identity used to sign in to a user account (ESET v1Identity): Active Directory, Microsoft Entra ID, Google, Facebook or a local provider. Managed by the identity provider, where it can also be verified.",
})
export class Identity {
  @Field(() => String, {
    nullable: true,
    description:
      'User name as a form of identity reference, derived from the provider reference if its format is suitable. Examples: "system\\user", "name.surname", "login@somedomain.com".',
  })
  userName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The identifier used by the identity provider for the user, e.g. "user123@company.com".',
  })
  providerReference!: string | null;

  @Field(() => IdentityReferenceFormat, { description: "The format of providerReference." })
  providerReferenceFormat!: IdentityReferenceFormat;

  @Field(() => IdentityProviderType, { description: "The identity provider that manages this identity." })
  providerType!: IdentityProviderType;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the identity was created; null when ESET does not know." })
  createTime!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the identity was last updated; null when ESET does not know." })
  updateTime!: Date | null;
}
