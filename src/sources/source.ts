import type { GraphPart } from "../graphql/graph-part";
import { registerSourceFacts, type SourceFacts } from "../upstream/source";

/**
 * Everything a source brings, described by the source itself (src/sources/<vendor>/register.ts): its facts
 * (name, words in messages, scope, own cost limit: see SourceFacts), its part of the graph (resolvers and
 * prices). The core iterates over the registered sources and names none of them.
 */
export interface SourceDefinition extends SourceFacts {
  part: GraphPart;
}

const definitions: SourceDefinition[] = [];

/**
 * Registers a source: its fields join the schema built after this, its facts the registry the shared
 * machinery reads. src/sources/index.ts registers the built-in ones; a test or an embedding registers more
 * the same way, before it loads the configuration and starts the gateway.
 */
export function registerSource(source: SourceDefinition): void {
  registerSourceFacts(source);
  if (!definitions.includes(source)) definitions.push(source);
}

/** The registered sources, in registration order. */
export function registeredSourceDefinitions(): readonly SourceDefinition[] {
  return definitions;
}
