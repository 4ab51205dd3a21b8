// Bundles the browser app of `xo-foundry ui` into dist/ui/ (app.js, app.css, index.html),
// next to the server's compiled files, which serve exactly these three.
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "../dist/ui");
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(here, "src/main.ts")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
});
await copyFile(path.join(here, "src/app.css"), path.join(out, "app.css"));
await copyFile(path.join(here, "src/index.html"), path.join(out, "index.html"));
