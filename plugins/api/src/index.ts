import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { CURSOR_ERRORS } from "./incremental.js";
import { apiSource } from "./source.js";
import { VERSION } from "./version.js";

export { apiSource } from "./source.js";
export { ApiRequestError } from "./http.js";
export { CursorError } from "./incremental.js";
export {
  sourceOptions,
  streamOptions,
  incrementalOptions,
  PLACEHOLDERS,
  type SourceOptions,
  type StreamOptions,
  type IncrementalOptions,
} from "./options.js";

/** The REST API plugin: provides the `api` source. */
export function api(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-api", version: VERSION, sources: [apiSource], errors: CURSOR_ERRORS });
}
