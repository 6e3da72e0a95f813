import { ArrayNotEmpty, Length, Matches } from "class-validator";
import { ArgsType, Field, ID } from "type-graphql";
import { ESET_UUID_MAX_LENGTH, ESET_UUID_MESSAGE, ESET_UUID_PATTERN, isValidEsetUuid } from "../id-rules";

@ArgsType()
export class EsetUserArgs {
  @Field(() => ID, { description: "The ESET user uuid (opaque; usually, but not always, an RFC 4122 UUID)." })
  @Length(1, ESET_UUID_MAX_LENGTH, { message: ESET_UUID_MESSAGE })
  @Matches(ESET_UUID_PATTERN, { message: ESET_UUID_MESSAGE })
  uuid!: string;

  static isPlainlyValid(args: EsetUserArgs): boolean {
    return isValidEsetUuid(args.uuid);
  }
}

@ArgsType()
export class EsetUsersArgs {
  @Field(() => [ID], { description: "ESET user uuids to look up; repeats are fetched once." })
  @Length(1, ESET_UUID_MAX_LENGTH, { each: true, message: `each uuid: ${ESET_UUID_MESSAGE}` })
  @Matches(ESET_UUID_PATTERN, { each: true, message: `each uuid: ${ESET_UUID_MESSAGE}` })
  @ArrayNotEmpty({ message: "uuids must name at least one uuid" })
  uuids!: string[];

  static isPlainlyValid(args: EsetUsersArgs): boolean {
    return Array.isArray(args.uuids) && args.uuids.length > 0 && args.uuids.every(isValidEsetUuid);
  }
}
