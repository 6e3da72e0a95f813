import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAppSchema, printAppSchema } from "../schema";

/** `npm run schema:emit`: writes schema/schema.graphql from the code. */
async function emit(): Promise<void> {
  const target = join(__dirname, "..", "..", "schema", "schema.graphql");
  writeFileSync(target, printAppSchema(await buildAppSchema()));
  process.stdout.write(`wrote ${target}\n`);
}

void emit();
