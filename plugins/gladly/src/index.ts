import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { GLADLY_ERRORS } from "./errors.js";
import { gladlySource } from "./source.js";
import { VERSION } from "./version.js";

export { gladlySource } from "./source.js";
export { GLADLY_ERRORS, GladlySourceError, type GladlyErrorCode } from "./errors.js";
export { GladlyApiError, type GladlyErrorDetail } from "./http.js";
export { sourceOptions, streamOptions, EXPORT_FILES, type SourceOptions, type StreamOptions } from "./options.js";

/** The Gladly plugin: provides the `gladly` source. */
export function gladly(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-gladly", version: VERSION, sources: [gladlySource], errors: GLADLY_ERRORS });
}
