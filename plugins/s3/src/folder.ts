/**
 * The `s3` source reading a local folder (`uri: file://...`): the same selection as for
 * a bucket (pattern, format, incremental, max_files) over the files below the folder,
 * so a pipeline can move from a drop folder to a bucket by changing one line. Nothing
 * here loads the AWS SDK. Bodies are read from disk as the runtime pulls them.
 */
import { createReadStream, type Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import picomatch from "picomatch";
import type { ExtractBatch, ExtractContext, FileFormat } from "@xo-foundry/core";
import { formatOf, type StreamOptions } from "./options.js";

export interface MatchedFile {
  /** Absolute path. */
  readonly path: string;
  /** The path relative to the folder, with `/` separators, as the pattern sees it. */
  readonly relative: string;
  readonly size: number;
  readonly modified: Date;
  readonly format: FileFormat;
}

export async function* extractFolder(
  ctx: ExtractContext,
  stream: StreamOptions,
  dir: string,
): AsyncGenerator<ExtractBatch, void, undefined> {
  const files = await matchFiles(dir, stream, ctx, ctx.stream.name);
  ctx.log.info(`matched ${files.length} file(s) in ${pathToFileURL(dir).href}`, {
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
  });
  for (const file of files) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    yield {
      type: "file",
      name: file.relative.split("/").join("__"),
      format: file.format,
      body: fileBody(file.path, ctx.signal),
      metadata: { path: file.path, size: file.size, last_modified: file.modified.toISOString() },
    };
  }
}

/** The folder's files, in code-point order of their relative paths, after pattern, window and cap. */
export async function matchFiles(
  dir: string,
  stream: StreamOptions,
  ctx: Pick<ExtractContext, "window" | "signal">,
  streamName: string,
): Promise<MatchedFile[]> {
  await checkFolder(dir, streamName);
  const isMatch = picomatch(stream.pattern, { dot: false });
  const start = Date.parse(ctx.window.start);
  const end = Date.parse(ctx.window.end);
  const matched: MatchedFile[] = [];
  for await (const { file, relative } of walk(dir, "", ctx.signal)) {
    if (!isMatch(relative)) continue;
    const info = await stat(file);
    const modified = info.mtime.getTime();
    if (stream.incremental && !(modified >= start && modified < end)) continue;
    matched.push({ path: file, relative, size: info.size, modified: info.mtime, format: stream.format ?? formatOf(relative, "file") });
  }
  if (stream.max_files !== undefined && matched.length > stream.max_files) {
    throw new Error(
      `${matched.length} files match ${stream.pattern} in ${dir}, more than max_files (${stream.max_files}). ` +
        "Narrow `uri` or `pattern`, use `incremental: true`, or raise `max_files`",
    );
  }
  return matched.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
}

/** A missing folder is far more often a typo than "no files today", so it fails. */
async function checkFolder(dir: string, streamName: string): Promise<void> {
  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    const why = e.code === "ENOENT" ? "does not exist" : `cannot be read (${e.code ?? e.message})`;
    throw new Error(`the folder ${dir} of stream ${streamName} ${why}. Create it, or fix the stream's \`uri\``, { cause: e });
  });
  if (!info.isDirectory()) {
    throw new Error(`${dir} (the uri of stream ${streamName}) is a file, not a folder. Point \`uri\` at its folder and select it with \`pattern\``);
  }
}

/**
 * Every file below `dir`. Symbolic links to files are read like files; links to
 * folders are not followed, so a link loop cannot make the walk endless.
 */
async function* walk(dir: string, relative: string, signal: AbortSignal): AsyncGenerator<{ file: string; relative: string }> {
  signal.throwIfAborted();
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`cannot list the folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) {
      yield* walk(file, rel, signal);
    } else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(file).catch(() => undefined))?.isFile())) {
      yield { file, relative: rel };
    }
  }
}

/** Opened when the runtime starts reading, so one file at a time is open; read in 64 KiB chunks. */
async function* fileBody(file: string, signal: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield* createReadStream(file, { signal }) as AsyncIterable<Buffer>;
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}
