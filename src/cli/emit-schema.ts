import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSubgraphAppSchema, printSubgraphAppSchema } from "../federation/subgraph-schema";
import { buildAppSchema, printAppSchema } from "../schema";

/**
 * `npm run schema:emit`: writes schema/schema.graphql (standalone) and schema/subgraph.graphql (the
 * Federation 2 subgraph SDL, for `rover supergraph compose`) from the code.
 */
async function emit(): Promise<void> {
  const dir = join(__dirname, "..", "..", "schema");
  const files: Array<[string, string]> = [
    ["schema.graphql", printAppSchema(await buildAppSchema())],
    ["subgraph.graphql", printSubgraphAppSchema(await buildSubgraphAppSchema())],
  ];
  for (const [name, sdl] of files) {
    const target = join(dir, name);
    writeFileSync(target, sdl);
    process.stdout.write(`wrote ${target}\n`);
  }
}

void emit();
