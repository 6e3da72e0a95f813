import { SIMULATOR_CREDENTIALS, type Simulator } from "../../src/simulator/simulator";

/** A TENANTS_FILE entry whose Defender and ESET are `sim`, Defender's secret in the variable `secretEnv`. */
export function tenantEntry(id: string, sim: Simulator, secretEnv: string) {
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
  };
}

/** The ESET variables every tenantEntry names. */
export const SIM_ESET_ENV = {
  SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
  SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
};
