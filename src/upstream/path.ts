import { IllFormedTextError } from "../errors/ill-formed-text.error";

/**
 * Encodes an id as exactly one URL path segment: `contoso\alice` → `contoso%5Calice`, `../x` → `..%2Fx`.
 * A segment of only dots would still be resolved as `.`/`..` by URL normalisation, so its dots are encoded.
 */
export function encodePathSegment(id: string): string {
  const encoded = encodeURIComponent(wellFormed(id, "id"));
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, "%2E") : encoded;
}

/**
 * The text itself, when it may go into a URL. A lone surrogate makes encodeURIComponent throw a URIError,
 * and URLSearchParams silently sends U+FFFD instead (another value than the one asked for): refused as the
 * client's input instead. Every string that goes into a vendor URL passes here.
 */
export function wellFormed(text: string, what: string): string {
  if (!text.isWellFormed()) throw new IllFormedTextError(what);
  return text;
}
