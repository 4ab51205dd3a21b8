import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { SFTP_ERRORS } from "./errors.js";
import { sftpArchive } from "./archive.js";
import { sftpSource } from "./source.js";
import { sftpUpload } from "./upload.js";
import { VERSION } from "./version.js";

export { sftpArchive } from "./archive.js";
export { sftpSource } from "./source.js";
export { sftpUpload } from "./upload.js";
export { SFTP_ERRORS, SftpError, type SftpErrorCode } from "./errors.js";
export { fingerprint, parseKnownHosts } from "./host-key.js";
export {
  archiveOptions,
  sourceOptions,
  streamOptions,
  uploadOptions,
  FORMATS,
  type ArchiveOptions,
  type SourceOptions,
  type StreamOptions,
  type UploadOptions,
} from "./options.js";

/** The SFTP plugin: the `sftp` source and the `sftp.upload` and `sftp.archive` steps. */
export function sftp(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-sftp", version: VERSION, sources: [sftpSource], steps: [sftpUpload, sftpArchive], errors: SFTP_ERRORS });
}
