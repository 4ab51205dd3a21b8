#!/usr/bin/env node
// `npm run build`: bundle the extension into dist/extension.js (vscode-languageclient
// included, so the .vsix needs no node_modules), then package dist/xo-foundry-vscode-<version>.vsix.
// Offline: vsce packages without `npm list` (dependencies: false) and publishes nothing.
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const manifest = require("./package.json");

// A .vsix left in dist/ would be packed into the next one.
await rm(path.join(here, "dist"), { recursive: true, force: true });

await build({
  entryPoints: [path.join(here, "src/extension.ts")],
  outfile: path.join(here, manifest.main),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // Provided by the extension host at run time, never bundled.
  external: ["vscode"],
  tsconfig: path.join(here, "tsconfig.json"),
  // Smaller and faster to load; names kept so stack traces in the output channel stay readable.
  minify: true,
  keepNames: true,
  logLevel: "warning",
});

// Resolved from this package: node_modules is hoisted to the repository root.
const { createVSIX } = require("@vscode/vsce");
await createVSIX({
  cwd: here,
  packagePath: path.join(here, "dist", `${manifest.name}-${manifest.version}.vsix`),
  dependencies: false,
  // The README has no relative links and names no issues: nothing to rewrite against a repository URL.
  rewriteRelativeLinks: false,
  gitHubIssueLinking: false,
  gitLabIssueLinking: false,
});
