import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS } from "../src/simulator/simulator";

export interface Child {
  proc: ChildProcess;
  info: Record<string, string>;
}

/**
 * Starts `bench/sut/<script>.js` in its own process and resolves with what it printed after READY. With
 * `fromDir`, the script of another checkout's compiled bench (`<dir>/dist-bench/bench/sut/`): a baseline.
 */
export function startChild(script: string, env: Record<string, string> = {}, fromDir?: string): Promise<Child> {
  const file = fromDir ? join(fromDir, "dist-bench", "bench", "sut", `${script}.js`) : join(__dirname, "sut", `${script}.js`);
  const proc = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) {
        proc.stdout!.removeAllListeners("data");
        proc.stdout!.resume(); // discard the rest (usergraph's log lines)
        resolve({ proc, info: JSON.parse(m[1]!) as Record<string, string> });
      }
    });
    proc.on("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Access tokens from the simulator's two token endpoints, for the systems that call it without usergraph. */
export async function simulatorTokens(defenderTokenUrl: string, esetTokenUrl: string): Promise<{ defender: string; eset: string }> {
  const token = async (url: string, form: Record<string, string>) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  return {
    defender: await token(defenderTokenUrl, {
      grant_type: "client_credentials",
      client_id: SIMULATOR_CREDENTIALS.clientId,
      client_secret: SIMULATOR_CREDENTIALS.clientSecret,
      scope: SIMULATOR_CREDENTIALS.scope,
    }),
    eset: await token(esetTokenUrl, {
      grant_type: "password",
      username: SIMULATOR_CREDENTIALS.esetUsername,
      password: SIMULATOR_CREDENTIALS.esetPassword,
    }),
  };
}
