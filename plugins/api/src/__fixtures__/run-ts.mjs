// Runs `main(arg)` of a TypeScript module of this package in a plain `node` process, loaded
// the way vitest loads the tests (vite's module runner, workspace packages from their
// sources), so a child process never runs a stale dist/.
//   node run-ts.mjs <module.ts> '<json argument>'
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [modulePath, arg] = process.argv.slice(2);
const fromVitest = createRequire(createRequire(import.meta.url).resolve("vitest/package.json"));
const { createServer, createServerModuleRunner } = await import(pathToFileURL(fromVitest.resolve("vite")).href);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const server = await createServer({
  configFile: false,
  root,
  logLevel: "error",
  appType: "custom",
  server: { middlewareMode: true, hmr: false, watch: null },
  resolve: { conditions: ["xo-source"] },
  ssr: { resolve: { conditions: ["xo-source"] } },
});
const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
let code = 0;
try {
  const mod = await runner.import(path.resolve(modulePath));
  await mod.main(JSON.parse(arg ?? "null"));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  code = 1;
} finally {
  await runner.close();
  await server.close();
}
process.exit(code);
