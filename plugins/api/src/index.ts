import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { apiSource } from "./source.js";
import { VERSION } from "./version.js";

export { apiSource } from "./source.js";
export { ApiRequestError } from "./http.js";
export { sourceOptions, streamOptions, PLACEHOLDERS, type SourceOptions, type StreamOptions } from "./options.js";

/** The REST API plugin: provides the `api` source. */
export function api(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-api", version: VERSION, sources: [apiSource] });
}
