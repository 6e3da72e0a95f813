import { Field, ObjectType } from "type-graphql";

@ObjectType({
  description: "Details of a user related to their cloud office origin, e.g. Microsoft 365 or Google Workspace (ESET v1CloudOfficeUser).",
})
export class CloudOffice {
  @Field(() => Boolean, {
    nullable: true,
    description:
      "For a user imported from Microsoft 365: true if the user has Microsoft licences assigned (a projection of assigned licences from Graph API).",
  })
  hasMsLicense!: boolean | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Reference to the cloud office tenant the user originates from. The format depends on the origin: Microsoft 365 uses mostly a UUID, Google Workspace a random string.",
  })
  tenantReference!: string | null;
}
