import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(__dirname, "..");

/** Where the explorer's browser test finds out why Chromium could not be had (it fails with this text). */
export const CHROMIUM_PROBLEM_FILE = join(root, "test-artifacts", "chromium-problem.txt");

/**
 * Runs once before all suites: starts (or installs) the real Redis the shared-tier tests use, installs
 * Debian's Chromium for the explorer's browser test when it is missing, and compiles
 * the service into dist-test/ for the suites that run it as separate processes (`node dist-test/main.js`,
 * as `npm start` runs dist/main.js).
 */
export default function globalSetup(): void {
  execFileSync("bash", [join(root, "scripts", "ensure-redis.sh")], { stdio: "inherit" });
  // A missing browser fails the browser test (loudly, with this reason), not every other suite.
  mkdirSync(dirname(CHROMIUM_PROBLEM_FILE), { recursive: true });
  rmSync(CHROMIUM_PROBLEM_FILE, { force: true });
  try {
    execFileSync("bash", [join(root, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
  } catch (err) {
    process.stderr.write("\n*** scripts/ensure-chromium.sh failed (see above): the explorer's browser test will fail ***\n\n");
    writeFileSync(CHROMIUM_PROBLEM_FILE, `scripts/ensure-chromium.sh failed: ${(err as Error).message} (its output is above the test run)`);
  }
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", join(root, "dist-test")],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}
