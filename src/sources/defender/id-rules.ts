/**
 * What a Defender user id may look like before it is sent anywhere: a Windows account name, bare or
 * `domain\user`.
 */
export const DEFENDER_ID_MAX_LENGTH = 256;
/**
 * A Windows account name, bare or `domain\user`: none of the characters Windows forbids in account names
 * (/ \ [ ] : ; | = , + * ? < > "), except the one backslash between domain and user; no control or
 * invisible formatting characters (they break logs and can disguise an id); not only dots. So `../x` and
 * friends are refused here, before any call, while path encoding stays as the second line of defence.
 */
const ACCOUNT_PART = '[^\\\\/\\[\\]:;|=,+*?<>"\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]+';
export const DEFENDER_ID_PATTERN = new RegExp(`^(?!\\.+$)(?:${ACCOUNT_PART}\\\\)?${ACCOUNT_PART}$`);
export const DEFENDER_ID_MESSAGE =
  `a Defender user id is a Windows account name, bare or domain\\user, 1 to ${DEFENDER_ID_MAX_LENGTH} characters, ` +
  'without / [ ] : ; | = , + * ? < > " or control characters, and not only dots';

/** The same rules as the class-validator decorators, as a plain predicate for the hot path. */
export function isValidDefenderId(id: unknown): boolean {
  return typeof id === "string" && id.length >= 1 && id.length <= DEFENDER_ID_MAX_LENGTH && DEFENDER_ID_PATTERN.test(id);
}

/**
 * A machine key: a device id (40 hex digits) or a computer name, short or fully qualified, as Defender's
 * GET /api/machines/{id} takes it. Host-name characters only, so nothing but a name reaches the path.
 */
export const MACHINE_KEY_MAX_LENGTH = 255;
export const MACHINE_KEY_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$/;
export const MACHINE_KEY_MESSAGE = `a Defender machine is named by its device id (40 hex digits) or its computer name (letters, digits, . _ -), 1 to ${MACHINE_KEY_MAX_LENGTH} characters`;

export function isValidMachineKey(key: unknown): boolean {
  return typeof key === "string" && key.length >= 1 && key.length <= MACHINE_KEY_MAX_LENGTH && MACHINE_KEY_PATTERN.test(key);
}
