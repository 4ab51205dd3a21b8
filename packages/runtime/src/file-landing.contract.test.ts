/** The built-in `file://` landing store against the testkit's landing store contract. */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { describeLandingStore, testdir } from "@xo-foundry/testkit";
import { fileLanding } from "./file-landing.js";

const { name, version } = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

describeLandingStore({
  provider: `${name}@${version}`,
  scheme: "file",
  capabilities: { createText: true, copy: true },
  async open() {
    const dir = await testdir();
    return { store: fileLanding(), root: pathToFileURL(dir.path("landing")).href, cleanup: () => dir.remove() };
  },
});
