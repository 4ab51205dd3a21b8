/**
 * The `sftp` source: lands the files of a remote folder that match a glob and the stream's
 * `modified` rule, one file batch per file, in path order, over one SFTP session. Each
 * body streams from the server into the landing store (gunzipped on the way when asked);
 * nothing is held whole in memory.
 */
import { once } from "node:events";
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import type { ExtractBatch, ExtractContext, SourceDefinition } from "@xo-foundry/core";
import { openSession, type SftpSession } from "./connect.js";
import { remoteError, SftpError } from "./errors.js";
import { formatOf, sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { listFiles, type RemoteFile } from "./remote.js";
import { landedNames, selectFiles } from "./select.js";

export const sftpSource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "sftp",
  description: "Copies files (csv, ndjson, json, parquet; gzipped or not) from a folder on an SFTP server, selected by glob and modification time.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "required",
  extract,
};

async function* extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncGenerator<ExtractBatch, void, undefined> {
  // Parsing again is idempotent for validated configs and applies defaults for raw ones (tests, the testkit).
  const options = sourceOptions.parse(ctx.options);
  const stream = streamOptions.parse(ctx.streamOptions);
  const session = await openSession(ctx.connection, { retries: options.retries, timeoutSeconds: options.timeout_seconds }, ctx);
  try {
    const listed = await listFiles(session, stream.path, stream.recursive, ctx.signal);
    const { files, state } = selectFiles(listed, stream, ctx.window, ctx.state, Math.floor(Date.now() / 1000));
    ctx.log.info(`matched ${files.length} of ${listed.length} file(s) in ${stream.path}`, { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) });
    const names = landedNames(
      files.map((f) => f.relative),
      stream.decompress,
    );
    for (const [i, file] of files.entries()) {
      ctx.signal.throwIfAborted();
      const gzipped = /\.gz$/i.test(file.path);
      const decompress = gzipped && stream.decompress;
      yield {
        type: "file",
        name: names[i]!,
        format: stream.format ?? formatOf(file.relative),
        body: download(session, file, decompress, ctx.signal),
        metadata: {
          remote_path: file.path,
          size: file.size,
          mtime: new Date(file.mtime * 1000).toISOString(),
          ...(gzipped ? { compression: decompress ? "gzip, decompressed" : "gzip" } : {}),
        },
      };
    }
    // Last, so the runtime keeps it with these files and saves it only after their load.
    if (state) yield { type: "state", state: { mtime: state.mtime, path: state.path } };
  } finally {
    await session.close();
  }
}

/**
 * The file's bytes, read when the runtime starts consuming them. The byte count is checked
 * against the listing: a file that grew or shrank meanwhile was being written, and landing
 * a cut copy would pass for complete data.
 */
async function* download(session: SftpSession, file: RemoteFile, gunzip: boolean, signal: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  const raw = session.sftp.createReadStream(file.path);
  const abort = () => raw.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  signal.addEventListener("abort", abort, { once: true });
  // Remote bytes are counted where they leave the SFTP stream: in the loop, or before gunzip.
  let read = 0;
  let body: Readable = raw;
  if (gunzip) {
    raw.on("data", (chunk: Buffer) => (read += chunk.length));
    body = raw.pipe(createGunzip());
    // A failure of the remote read reaches the gunzip side too, so the pipe never hangs.
    raw.once("error", (e: Error) => body.destroy(e));
  }
  try {
    for await (const chunk of body) {
      if (!gunzip) read += (chunk as Buffer).length;
      yield chunk as Uint8Array;
    }
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw remoteError(e, "read", file.path);
  } finally {
    signal.removeEventListener("abort", abort);
    // Closing the remote handle answers after the loop is done; a session that ends first
    // fails that answer, which must not surface as an uncaught stream error.
    raw.on("error", () => {});
    if (!raw.destroyed) raw.destroy();
    if (!raw.closed) await once(raw, "close");
  }
  if (read !== file.size) {
    throw new SftpError(
      "SFTP_SIZE_MISMATCH",
      `${file.path} was listed with ${file.size} bytes but ${read} were read: it changed while it was read`,
      "re-run; if the partner writes files in place, set `min_age_seconds` so files still being written wait for the next run",
    );
  }
}
