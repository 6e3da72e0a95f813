/**
 * What an id may look like before it is sent anywhere. Defender ids are Windows account names, bare or
 * `domain\user`; ESET uuids are opaque (ESET: "do not rely on it being a RFC UUID"), so only their length
 * (ESET's maxLength 100) and a conservative charset are checked, never the UUID shape.
 */
export const DEFENDER_ID_MAX_LENGTH = 256;
/**
 * No control characters (C0, DEL, C1): they have no place in an account name and break logs. Not only
 * dots either: Windows forbids such names, and `.`/`..` would be resolved as path segments on the way.
 */
export const DEFENDER_ID_PATTERN = /^(?!\.+$)[^\u0000-\u001f\u007f-\u009f]+$/;
export const DEFENDER_ID_MESSAGE = `a Defender user id is 1 to ${DEFENDER_ID_MAX_LENGTH} characters, not only dots, without control characters`;

export const ESET_UUID_MAX_LENGTH = 100;
export const ESET_UUID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:-]*$/;
export const ESET_UUID_MESSAGE = `an ESET user uuid is 1 to ${ESET_UUID_MAX_LENGTH} characters of letters, digits and . _ ~ : -`;
