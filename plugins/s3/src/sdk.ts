/**
 * The parts built on the AWS SDK, for callers that use the landing store or the client
 * directly (`@xo-foundry/plugin-s3/sdk`). The package entry does not load them.
 */
export { s3Landing, s3LandingDefinition, DEFAULT_PART_SIZE, MIN_PART_SIZE, type S3LandingOptions } from "./landing.js";
export { s3Source, createS3Source, type S3SourceTuning } from "./source.js";
export { createS3Client, clientSettings, type ClientSettings } from "./client.js";
export { createS3Upload, s3Upload, type S3UploadTuning } from "./upload.js";
export { S3OperationError } from "./errors.js";
