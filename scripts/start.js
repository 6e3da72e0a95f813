#!/usr/bin/env node
// `npm start`: compiles src/ into dist/ only when dist/ is missing or older than a source, then runs
// dist/main.js in this process. A fresh clone's first start builds (tsc, tens of seconds on a busy
// machine); later starts skip it and serve in about a second.
"use strict";
const { execFileSync } = require("node:child_process");
const { existsSync, readdirSync, statSync, utimesSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

/** The newest modification time among the files the build reads. */
function newestInput(root) {
  let newest = 0;
  const visit = (path) => {
    const info = statSync(path);
    // A directory's own time counts too: deleting or renaming a source changes it.
    newest = Math.max(newest, info.mtimeMs);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(join(root, "src"));
  for (const file of ["tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"]) {
    if (existsSync(join(root, file))) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  }
  return newest;
}

/** Whether dist/ must be (re)built: missing, never stamped by this script, or older than a source. */
function isStale(root) {
  const stamp = join(root, "dist", ".build-stamp");
  return !existsSync(join(root, "dist", "main.js")) || !existsSync(stamp) || statSync(stamp).mtimeMs < newestInput(root);
}

function start() {
  const root = join(__dirname, "..");
  const stamp = join(root, "dist", ".build-stamp");
  if (isStale(root)) build(root, stamp);
  require(join(root, "dist", "main.js"));
}

function build(root, stamp) {
  process.stderr.write("usergraph: compiling src/ into dist/ (only when a source changed)...\n");
  const startedAt = Date.now();
  // The stamp carries the time the build started: a source saved during the build is newer and triggers the next one.
  const before = new Date();
  try {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", join(root, "tsconfig.build.json")], {
      cwd: root,
      stdio: "inherit",
    });
  } catch {
    process.stderr.write("usergraph: the build failed (see above); not starting.\n");
    process.exit(1);
  }
  writeFileSync(stamp, `${before.toISOString()}\n`);
  utimesSync(stamp, before, before);
  process.stderr.write(`usergraph: compiled in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
}

module.exports = { isStale };
if (require.main === module) start();
