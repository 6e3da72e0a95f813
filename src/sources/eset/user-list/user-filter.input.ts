import { IsIn, IsOptional, Length, Matches, MaxLength, ValidateNested } from "class-validator";
import { Field, ID, InputType } from "type-graphql";
import { ProductAutoActivationBase, ProtectionStatus } from "../enums";
import { ESET_UUID_MAX_LENGTH, ESET_UUID_PATTERN } from "../id-rules";

/** ESET caps every string filter at 100 characters; control characters have no business in one. */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const TEXT = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const TEXT_MESSAGE = "at most 100 characters, without control characters";
/** Group, subscription and unit pool references are opaque like user uuids, and checked the same way. */
const UUID_MESSAGE = `an ESET reference (uuid) is 1 to ${ESET_UUID_MAX_LENGTH} characters of letters, digits and . _ ~ : -`;

/** ESET reads UNSPECIFIED as "no filter", so asking for it would silently return everyone. */
const FILTERABLE_STATUSES = Object.values(ProtectionStatus).filter((s) => s !== ProtectionStatus.UNSPECIFIED);

@InputType({
  description:
    "Which of ESET's active products a listed user must have (the activeProduct.* filters of GET /v1/users). Every field given must hold for one and the same product.",
})
export class EsetActiveProductFilter {
  @Field(() => ID, {
    nullable: true,
    description: "The product's id, 0 to 99999 (ESET's activeProduct.id, as in EsetUser.activeProductIds).",
  })
  @IsOptional()
  @Matches(/^\d{1,5}$/, { message: "a whole number from 0 to 99999" })
  id?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The product's name, the enumeration-style name ESET gives it (activeProduct.name); not a display name.",
  })
  @IsOptional()
  @MaxLength(100, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  name?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "true: the product was activated automatically, for everyone in one of the user's groups or in the user's tenant; false: activated by hand (activeProduct.autoActivated).",
  })
  autoActivated?: boolean | null;

  @Field(() => ProductAutoActivationBase, {
    nullable: true,
    description:
      "Why the product was activated automatically: tenant-wide or through a user group (activeProduct.autoActivationDetails.base).",
  })
  autoActivationBase?: ProductAutoActivationBase | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "The user group whose automatic activation activated the product; meaningful with autoActivationBase USER_GROUP (activeProduct.autoActivationDetails.userGroupUuid).",
  })
  @IsOptional()
  @Length(1, ESET_UUID_MAX_LENGTH, { message: UUID_MESSAGE })
  @Matches(ESET_UUID_PATTERN, { message: UUID_MESSAGE })
  autoActivationUserGroupUuid?: string | null;

  @Field(() => ID, { nullable: true, description: "The subscription used to activate the product (activeProduct.subscriptionUuid)." })
  @IsOptional()
  @Length(1, ESET_UUID_MAX_LENGTH, { message: UUID_MESSAGE })
  @Matches(ESET_UUID_PATTERN, { message: UUID_MESSAGE })
  subscriptionUuid?: string | null;

  @Field(() => ID, { nullable: true, description: "The unit pool whose units activated the product (activeProduct.unitPoolUuid)." })
  @IsOptional()
  @Length(1, ESET_UUID_MAX_LENGTH, { message: UUID_MESSAGE })
  @Matches(ESET_UUID_PATTERN, { message: UUID_MESSAGE })
  unitPoolUuid?: string | null;
}

@InputType({
  description:
    "Filters of ESET's user list (GET /v1/users), every one ESET documents. Every filter given must hold. A string filter that is empty means no filter, as at ESET.",
})
export class EsetUserFilter {
  @Field(() => String, { nullable: true, description: "Users whose display name contains this, at least partially (ESET's match)." })
  @IsOptional()
  @MaxLength(100, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  displayName?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Users whose primary or proxy e-mail address contains this, at least partially (ESET's match: `contoso.com` finds a whole domain).",
  })
  @IsOptional()
  @MaxLength(100, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  email?: string | null;

  @Field(() => ProtectionStatus, {
    nullable: true,
    description: "Users with this protection status. UNSPECIFIED is refused: ESET reads it as no filter.",
  })
  @IsOptional()
  @IsIn(FILTERABLE_STATUSES, { message: "ESET cannot filter for UNSPECIFIED (it means no filter); leave the filter out instead" })
  protectionStatus?: ProtectionStatus | null;

  @Field(() => ID, { nullable: true, description: "Members of this user group (ESET computes membership with eventual consistency)." })
  @IsOptional()
  @Length(1, ESET_UUID_MAX_LENGTH, { message: UUID_MESSAGE })
  @Matches(ESET_UUID_PATTERN, { message: UUID_MESSAGE })
  userGroupUuid?: string | null;

  @Field(() => String, { nullable: true, description: "Users of this cloud office tenant; an exact match (CloudOffice.tenantReference)." })
  @IsOptional()
  @MaxLength(100, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  cloudOfficeTenantReference?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "true: only users with a Microsoft cloud office licence; false: only users without one (CloudOffice.hasMsLicense).",
  })
  hasCloudOfficeMsLicense?: boolean | null;

  @Field(() => EsetActiveProductFilter, { nullable: true, description: "Users with an active product matching all of these." })
  @IsOptional()
  @ValidateNested()
  activeProduct?: EsetActiveProductFilter | null;
}
