import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS, type Simulator } from "../../src/simulator/simulator";

/**
 * TENANTS_FILE for tests: each tenant on a simulator of its own, with the simulator's credentials (the
 * secrets by variable name, as the file wants them). `extra` adds fields to a tenant's entry (`documents`).
 */
export function tenantEntry(id: string, sim: Simulator, secretEnv = "SIM_DEFENDER_SECRET", extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Customer ${id.toUpperCase()}`,
    defender: {
      tenantId: SIMULATOR_CREDENTIALS.tenantId,
      clientId: SIMULATOR_CREDENTIALS.clientId,
      clientSecretEnv: secretEnv,
      apiUrl: sim.url,
      tokenUrl: sim.defenderTokenUrl,
    },
    eset: { usernameEnv: "SIM_ESET_USER", passwordEnv: "SIM_ESET_PASSWORD", apiUrl: sim.url, tokenUrl: sim.esetTokenUrl },
    ...extra,
  };
}

/** The variables the entries above name, with the simulator's secrets. */
export const TENANT_SECRETS = {
  SIM_DEFENDER_SECRET: SIMULATOR_CREDENTIALS.clientSecret,
  SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
  SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
};

/** A fresh directory for a suite's files (TENANTS_FILE, manifests). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes TENANTS_FILE `{ tenants }` in `dir` and returns its path. */
export function writeTenantsFile(dir: string, tenants: unknown[], name = "tenants.json"): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ tenants }));
  return path;
}

/** The ESET variables every tenantEntry names. */
export const SIM_ESET_ENV = {
  SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
  SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
};
