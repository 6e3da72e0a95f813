/**
 * The deepest JSON a request body may nest: `{"variables":{"filter":{"activeProduct":{…}}}}` is 4 levels,
 * a federation `_entities` call's representations 4. 64 refuses the 480,000-level `[[[[…]]]]` that cost
 * the gateway a second of CPU per request, yet stays above the variables' own bound (MAX_VARIABLE_DEPTH,
 * 32) plus the envelope, so a variable nested just past that bound is refused by the check that names it.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether `text` nests objects and arrays deeper than `max`, by one linear scan that counts brackets
 * outside strings; it allocates nothing and stops at the first level too deep. Hand-written because
 * neither JSON.parse nor secure-json-parse (fastify's parser) has a depth bound, and this has to run
 * before them: parsing first is the cost it guards against. For valid JSON the count is exact; for
 * anything else JSON.parse refuses the text after this scan anyway.
 */
export function exceedsJsonDepth(text: string, max: number): boolean {
  // Each level needs at least one character, so a short text cannot be too deep.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
