/**
 * Encodes an id as exactly one URL path segment: `contoso\alice` → `contoso%5Calice`, `../x` → `..%2Fx`.
 * A segment of only dots would still be resolved as `.`/`..` by URL normalisation, so its dots are encoded.
 */
export function encodePathSegment(id: string): string {
  const encoded = encodeURIComponent(id);
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, "%2E") : encoded;
}
