import { createRequire } from "node:module";

// Read at run time so the plugin reports the version npm installed, from src/ and dist/ alike.
export const VERSION = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
