/**
 * JSON.stringify that writes BigInt values as bare JSON numbers, so the simulator can send int64 values
 * JavaScript cannot hold exactly (9007199254740993), the way a Go or Java server would.
 */
export function stringifyWire(value: unknown, int64AsString = false): string {
  const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `\u0000int64:${v}` : v));
  return marked.replace(/"\\u0000int64:(-?\d+)"/g, int64AsString ? '"$1"' : "$1");
}
