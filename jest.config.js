/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Starts (or installs) the Redis the shared-tier tests use, when it is not already running.
  globalSetup: "<rootDir>/test/global-setup.ts",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  transform: {
    // Type errors are caught once by `npm run typecheck`; per-file transpilation keeps jest fast.
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
  },
  clearMocks: true,
  // Every file's tests run in a new order each run, so none can lean on what an earlier one left behind;
  // the seed is printed, and `npx jest <file> --seed=<seed>` replays a failing order.
  randomize: true,
  showSeed: true,
  testTimeout: 20000,
};
