import { execFileSync } from "node:child_process";
import { join } from "node:path";

const root = join(__dirname, "..");

/**
 * Runs once before all suites: starts (or installs) the real Redis the shared-tier tests use, and compiles
 * the service into dist-test/ for the suites that run it as separate processes (`node dist-test/main.js`,
 * as `npm start` runs dist/main.js).
 */
export default function globalSetup(): void {
  execFileSync("bash", [join(root, "scripts", "ensure-redis.sh")], { stdio: "inherit" });
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", join(root, "dist-test")], {
    cwd: root,
    stdio: "inherit",
  });
}
