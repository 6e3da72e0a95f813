import { ValidateBy } from "class-validator";
import { ArgsType, Field } from "type-graphql";
import { parseAtName, parseDomainUser } from "./account-names";
import { isValidDefenderId } from "../sources/defender/id-rules";

export const PERSON_REF_MAX_LENGTH = 320;
export const PERSON_REF_MESSAGE =
  `a UPN or e-mail address (user@contoso.com) or a Windows account (contoso\\user), 3 to ${PERSON_REF_MAX_LENGTH} characters, ` +
  "without control characters; a bare user name names no one in particular";

// Control characters are exactly what this pattern exists to find.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
/** Characters RFC 5322 allows in a mailbox only quoted, and Entra never puts in a UPN. */
const NOT_IN_USER_PART = /[/"<>()[\]:;,]/;

/**
 * A reference names one person: `user@dns.name` (a UPN or an e-mail address; the domain as DNS labels,
 * punycode for internationalised names) or `DOMAIN\user` (a Defender-style account id). A bare name is
 * refused: the same bare name exists in every domain.
 */
export function isValidPersonRef(ref: unknown): boolean {
  if (typeof ref !== "string" || ref.length < 3 || ref.length > PERSON_REF_MAX_LENGTH || INVISIBLE.test(ref)) return false;
  if (ref.includes("\\")) return parseDomainUser(ref) !== undefined && isValidDefenderId(ref);
  return parseAtName(ref) !== undefined && !NOT_IN_USER_PART.test(ref.slice(0, ref.indexOf("@")));
}

@ArgsType()
export class PersonArgs {
  @Field(() => String, {
    description: 'Who: a UPN or e-mail address ("alice@contoso.com") or a Windows account ("contoso\\alice"). Compared without case.',
  })
  @ValidateBy({ name: "isPersonRef", validator: { validate: isValidPersonRef, defaultMessage: () => PERSON_REF_MESSAGE } })
  ref!: string;

  static isPlainlyValid(args: PersonArgs): boolean {
    return isValidPersonRef(args.ref);
  }
}
