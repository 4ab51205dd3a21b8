import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { s3LandingDefinition } from "./landing.js";
import { s3Source } from "./source.js";
import { VERSION } from "./version.js";

export { s3Landing, s3LandingDefinition, DEFAULT_PART_SIZE, MIN_PART_SIZE, type S3LandingOptions } from "./landing.js";
export { s3Source, createS3Source, type S3SourceTuning } from "./source.js";
export { createS3Client, clientSettings, type ClientSettings } from "./client.js";
export { S3OperationError } from "./errors.js";
export { sourceOptions, streamOptions, FORMATS, type SourceOptions, type StreamOptions } from "./options.js";
export { parseS3Uri, formatS3Uri } from "./uri.js";

/** The S3 plugin: the `s3://` landing zone and the `s3` file source. */
export function s3(): XoPlugin {
  return definePlugin({
    name: "@xo-foundry/plugin-s3",
    version: VERSION,
    sources: [s3Source],
    landings: [s3LandingDefinition],
  });
}
