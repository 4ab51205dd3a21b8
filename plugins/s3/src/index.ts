import { definePlugin, type Connection, type LandingDefinition, type LandingStore, type SourceDefinition, type StepType, type XoPlugin } from "@xo-foundry/core";
import { S3_LANDING, S3_SOURCE, S3_UPLOAD, streamOptions, type SourceOptions, type StreamOptions, type UploadOptions } from "./options.js";
import { parseS3Uri, sourceLocation } from "./uri.js";
import { S3_ERRORS } from "./errors.js";
import { VERSION } from "./version.js";

export { sourceOptions, streamOptions, uploadOptions, FORMATS, type SourceOptions, type StreamOptions, type UploadOptions } from "./options.js";
export { S3_ERRORS, S3Error, type S3ErrorCode } from "./errors.js";
export { parseS3Uri, formatS3Uri } from "./uri.js";

// Every CLI command discovers plugins and most never touch S3, so the AWS SDK loads
// with the first S3 call, not with this module; a stream that reads a local folder
// (`uri: file://...`) never loads it.

const source: SourceDefinition<SourceOptions, StreamOptions> = {
  ...S3_SOURCE,
  async *extract(ctx) {
    const stream = streamOptions.parse(ctx.streamOptions);
    const location = sourceLocation(stream, ctx.projectDir);
    if (location.scheme === "file") {
      const { extractFolder } = await import("./folder.js");
      yield* extractFolder(ctx, stream, location.dir);
      return;
    }
    const { s3Source } = await import("./source.js");
    yield* s3Source.extract(ctx);
  },
};

const upload: StepType<UploadOptions> = {
  ...S3_UPLOAD,
  run: async (ctx) => (await import("./upload.js")).s3Upload.run(ctx),
};

const landing: LandingDefinition = { ...S3_LANDING, open: lazyLanding };

function lazyLanding(uri: string, connection: Connection | undefined): LandingStore {
  parseS3Uri(uri); // a malformed root fails at open time, as the SDK-backed store does
  let store: Promise<LandingStore> | undefined;
  const get = () => (store ??= import("./landing.js").then((m) => m.s3Landing(uri, connection)));
  return {
    write: async (u, body) => (await get()).write(u, body),
    async *read(u) {
      yield* (await get()).read(u);
    },
    readText: async (u) => (await get()).readText(u),
    writeText: async (u, text) => (await get()).writeText(u, text),
    createText: async (u, text) => (await get()).createText!(u, text),
    copy: async (from, to) => (await get()).copy!(from, to),
    list: async (prefix) => (await get()).list(prefix),
    deletePrefix: async (prefix) => (await get()).deletePrefix(prefix),
    localPath: async (u) => (await get()).localPath(u),
  };
}

/** The S3 plugin: the `s3://` landing zone, the `s3` file source and the `s3.upload` step. */
export function s3(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-s3", version: VERSION, sources: [source], steps: [upload], landings: [landing], errors: S3_ERRORS });
}
