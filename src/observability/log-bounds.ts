/** The longest client-chosen string (operation name, id, caller) a log line carries. */
export const MAX_LOGGED_CLIENT_STRING = 200;

/**
 * Bounds a client-chosen string for a log line: a 900 KB operation name must not make a 900 KB line.
 * Keeps the start (what identifies it) and says how much was cut.
 */
export function clip(value: string, max?: number): string;
export function clip(value: string | null | undefined, max?: number): string | null | undefined;
export function clip(value: string | null | undefined, max: number = MAX_LOGGED_CLIENT_STRING): string | null | undefined {
  if (value === null || value === undefined || value.length <= max) return value;
  return `${value.slice(0, max)}…(+${value.length - max} chars)`;
}
