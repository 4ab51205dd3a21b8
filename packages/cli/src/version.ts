import { createRequire } from "node:module";

const pkg = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

export const CLI_NAME = pkg.name;
export const CLI_VERSION = pkg.version;
