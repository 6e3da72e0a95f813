import { ArrayMaxSize, ArrayNotContains, IsDate, IsOptional, Length, Matches } from "class-validator";
import { Field, ID, InputType } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";
import { AlertSeverity, AlertStatus } from "./alert.enums";

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const TEXT = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const TEXT_MESSAGE = "1 to 256 characters, without control characters";
const INT64 = /^\d{1,19}$/;
const INT64_MESSAGE = "a whole number (an int64 id, as in DefenderAlert.incidentId)";

/**
 * Which alerts `defenderAlerts` lists: every field given must hold, each mapped onto an OData `$filter` on
 * a property Defender documents as filterable on GET /api/alerts. The related user and the machine are not
 * filterable there (UPSTREAMS.md §5.1): use DefenderUser.alerts and DefenderMachine.alerts for those.
 */
@InputType({ description: "Which Defender alerts to list; every field given must hold. Each becomes part of Defender's OData $filter." })
export class DefenderAlertFilter {
  @Field(() => [AlertSeverity], { nullable: true, description: "Any of these severities (severity eq …, or-ed)." })
  @IsOptional()
  @ArrayMaxSize(5)
  severities?: AlertSeverity[] | null;

  @Field(() => [AlertStatus], {
    nullable: true,
    description: "Any of these statuses (status eq …, or-ed). UNSPECIFIED is no Defender value and is refused.",
  })
  @IsOptional()
  @ArrayMaxSize(5)
  @ArrayNotContains([AlertStatus.UNSPECIFIED], {
    message: "UNSPECIFIED is not a Defender status; use UNKNOWN, NEW, IN_PROGRESS or RESOLVED",
  })
  statuses?: AlertStatus[] | null;

  @Field(() => String, { nullable: true, description: 'Category, exactly (category eq …), e.g. "Execution".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  category?: string | null;

  @Field(() => String, { nullable: true, description: 'Detection source, exactly (detectionSource eq …), e.g. "WindowsDefenderAv".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  detectionSource?: string | null;

  @Field(() => String, { nullable: true, description: "Owner, exactly (assignedTo eq …), e.g. soc-lead@contoso.com." })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  assignedTo?: string | null;

  @Field(() => ID, { nullable: true, description: "Alerts of this incident (incidentId eq …)." })
  @IsOptional()
  @Matches(INT64, { message: INT64_MESSAGE })
  incidentId?: string | null;

  @Field(() => ID, { nullable: true, description: "Alerts of this automated investigation (investigationId eq …)." })
  @IsOptional()
  @Matches(INT64, { message: INT64_MESSAGE })
  investigationId?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Created at or after (alertCreationTime ge …)." })
  @IsOptional()
  @IsDate()
  createdSince?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Created before (alertCreationTime lt …)." })
  @IsOptional()
  @IsDate()
  createdBefore?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Last updated at or after (lastUpdateTime ge …)." })
  @IsOptional()
  @IsDate()
  updatedSince?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Last updated before (lastUpdateTime lt …)." })
  @IsOptional()
  @IsDate()
  updatedBefore?: Date | null;
}
