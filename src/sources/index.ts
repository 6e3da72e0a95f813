// The sources bring type-graphql classes, whose decorators read design-time types through this polyfill.
import "reflect-metadata";
import { defenderSource } from "./defender/register";
import { esetSource } from "./eset/register";
import { registerSource, registeredSourceDefinitions, type SourceDefinition } from "./source";

export { registerSource, type SourceDefinition };

/**
 * The built-in sources: adding a vendor is adding its folder and one line here; nothing else outside its
 * folder changes. docs/internals.md "Adding a source" says what the folder holds.
 */
registerSource(defenderSource);
registerSource(esetSource);

/** Every registered source: the built-in ones, and any registered since (src/sources/source.ts registerSource). */
export function sources(): readonly SourceDefinition[] {
  return registeredSourceDefinitions();
}
