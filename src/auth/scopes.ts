import { registeredSources, sourceFacts, type SourceName } from "../upstream/source";

/** The scope a caller needs to read a source's fields, as the source registered it. */
export function scopeOf(source: SourceName): string {
  const scope = sourceFacts(source)?.scope;
  // Fail closed: a source nobody registered has no scope anyone can hold.
  return scope ?? `unregistered-source:${source}`;
}

/** Every registered source's scope, in registration order. */
export function allScopes(): string[] {
  return registeredSources().map((s) => s.scope);
}
