import { ArrayNotEmpty, Length, Matches } from "class-validator";
import { ArgsType, Field, ID } from "type-graphql";
import { DEFENDER_ID_MAX_LENGTH, DEFENDER_ID_MESSAGE, DEFENDER_ID_PATTERN, isValidDefenderId } from "../id-rules";

@ArgsType()
export class DefenderUserArgs {
  @Field(() => ID, { description: 'The account\'s user name, bare ("user1") or "domain\\user". Not the full UPN.' })
  @Length(1, DEFENDER_ID_MAX_LENGTH, { message: DEFENDER_ID_MESSAGE })
  @Matches(DEFENDER_ID_PATTERN, { message: DEFENDER_ID_MESSAGE })
  id!: string;

  static isPlainlyValid(args: DefenderUserArgs): boolean {
    return isValidDefenderId(args.id);
  }
}

@ArgsType()
export class DefenderUsersArgs {
  @Field(() => [ID], { description: "User names to look up; repeats are fetched once." })
  @Length(1, DEFENDER_ID_MAX_LENGTH, { each: true, message: `each id: ${DEFENDER_ID_MESSAGE}` })
  @Matches(DEFENDER_ID_PATTERN, { each: true, message: `each id: ${DEFENDER_ID_MESSAGE}` })
  @ArrayNotEmpty({ message: "ids must name at least one id" })
  ids!: string[];

  static isPlainlyValid(args: DefenderUsersArgs): boolean {
    return Array.isArray(args.ids) && args.ids.length > 0 && args.ids.every(isValidDefenderId);
  }
}
