/**
 * What an ESET uuid may look like before it is sent anywhere: opaque (ESET: "do not rely on it being a RFC
 * UUID"), so only its length (ESET's maxLength 100) and a conservative charset are checked.
 */
export const ESET_UUID_MAX_LENGTH = 100;
export const ESET_UUID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:-]*$/;
export const ESET_UUID_MESSAGE = `an ESET user uuid is 1 to ${ESET_UUID_MAX_LENGTH} characters of letters, digits and . _ ~ : -`;

/** The same rules as the class-validator decorators, as a plain predicate for the hot path. */
export function isValidEsetUuid(uuid: unknown): boolean {
  return typeof uuid === "string" && uuid.length >= 1 && uuid.length <= ESET_UUID_MAX_LENGTH && ESET_UUID_PATTERN.test(uuid);
}
