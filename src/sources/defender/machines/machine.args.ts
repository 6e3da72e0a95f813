import { IsInt, IsOptional, Length, Matches, Max, Min } from "class-validator";
import { ArgsType, Field, ID, Int } from "type-graphql";
import { isValidMachineKey, MACHINE_KEY_MAX_LENGTH, MACHINE_KEY_MESSAGE, MACHINE_KEY_PATTERN } from "../id-rules";

@ArgsType()
export class DefenderMachineArgs {
  @Field(() => ID, {
    description: 'The device id (40 hex digits) or the computer name ("alice-laptop" or "alice-laptop.contoso.com"), as Defender accepts.',
  })
  @Length(1, MACHINE_KEY_MAX_LENGTH, { message: MACHINE_KEY_MESSAGE })
  @Matches(MACHINE_KEY_PATTERN, { message: MACHINE_KEY_MESSAGE })
  id!: string;

  static isPlainlyValid(args: DefenderMachineArgs): boolean {
    return isValidMachineKey(args.id);
  }
}

/** Most items one relation list returns: it bounds what the operation cost multiplies under it. */
export const RELATION_MAX_FIRST = 100;
export const RELATION_DEFAULT_FIRST = 20;
const FIRST_MESSAGE = `a whole number from 0 to ${RELATION_MAX_FIRST}`;

@ArgsType()
export class RelationListArgs {
  @Field(() => Int, {
    nullable: true,
    defaultValue: RELATION_DEFAULT_FIRST,
    description: `At most this many, 0 to ${RELATION_MAX_FIRST} (the operation cost counts what is selected under each of them).`,
  })
  @IsOptional()
  @IsInt({ message: FIRST_MESSAGE })
  @Min(0, { message: FIRST_MESSAGE })
  @Max(RELATION_MAX_FIRST, { message: FIRST_MESSAGE })
  first?: number | null;

  static isPlainlyValid(args: RelationListArgs): boolean {
    return (
      args.first === undefined ||
      args.first === null ||
      (Number.isInteger(args.first) && args.first >= 0 && args.first <= RELATION_MAX_FIRST)
    );
  }
}
