/**
 * Which landed files the upload step delivers. Steps see upstream tasks only through their
 * small summaries (XCom-sized; no file lists), but an `extract` summary names its stage
 * partition (`summary.partition`) and a `load` reads it (`reads[0]`): the partition's
 * `_manifest.json` lists the files with sizes and checksums, and `_SUCCESS` says it is
 * complete. For files that no extract landed (a step that wrote an export), `from:` names a
 * folder of the landing zone instead.
 */
import path from "node:path";
import { joinUri, MANIFEST_FILE, SUCCESS_MARKER, type Manifest, type StepContext, type TaskSummary } from "@xo-foundry/core";
import { SftpError } from "./errors.js";
import type { UploadOptions } from "./options.js";

export interface LandedFile {
  readonly uri: string;
  /** The file's name in the landing zone (sub-folders of a `from:` folder joined with `__`). */
  readonly name: string;
  readonly bytes: number;
  readonly sha256?: string;
}

export interface LandedSet {
  /** The partition or folder URI the files came from. */
  readonly from: string;
  readonly files: readonly LandedFile[];
}

export async function landedFiles(ctx: StepContext<UploadOptions>): Promise<LandedSet> {
  const { store, root } = ctx.landing;
  if (ctx.options.from !== undefined) {
    const folder = joinUri(root, ctx.options.from);
    const objects = await store.list(folder);
    const files = objects
      .map((o) => ({ uri: o.uri, bytes: o.bytes, relative: o.uri.slice(folder.length + 1) }))
      // Markers and manifests (`_SUCCESS`) and writers' temporaries (`.x.tmp`) are not deliverables.
      .filter((o) => !o.relative.split("/").some((part) => part.startsWith("_") || part.startsWith(".")))
      .map((o) => ({ uri: o.uri, bytes: o.bytes, name: o.relative.split("/").join("__") }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { from: folder, files };
  }
  const partition = upstreamPartition(ctx);
  if ((await store.readText(joinUri(partition.uri, SUCCESS_MARKER))) === undefined) {
    throw nothing(`the partition ${partition.uri} of task ${partition.task} is incomplete (no ${SUCCESS_MARKER})`, "re-run the upstream task first");
  }
  const text = await store.readText(joinUri(partition.uri, MANIFEST_FILE));
  if (text === undefined) throw nothing(`the partition ${partition.uri} of task ${partition.task} has no ${MANIFEST_FILE}`, "re-run the upstream task first");
  const manifest = JSON.parse(text) as Manifest;
  return {
    from: partition.uri,
    files: manifest.files.map((f) => ({ uri: f.uri, name: path.posix.basename(f.uri), bytes: f.bytes, sha256: f.sha256 })),
  };
}

/** The stage partition a task landed or loaded, if it names one. */
function partitionOf(summary: TaskSummary): string | undefined {
  if (summary.state !== "success") return undefined;
  if (typeof summary.summary.partition === "string") return summary.summary.partition;
  return summary.step === "load" ? summary.reads[0]?.uri : undefined;
}

function upstreamPartition(ctx: StepContext<UploadOptions>): { task: string; uri: string } {
  const named = ctx.options.task;
  if (named !== undefined) {
    const summary = ctx.upstream[named];
    if (!summary) {
      throw nothing(
        `task ${JSON.stringify(named)} is not upstream of ${ctx.taskId} in this run (upstream: ${Object.keys(ctx.upstream).join(", ") || "none"})`,
        "name a task this step runs after (`after:`), or make the step run after it",
      );
    }
    const uri = partitionOf(summary);
    if (!uri) throw nothing(`task ${named} landed no partition (step ${summary.step}, ${summary.state})`, "name an extract or load task, or use `from:` with a landing folder");
    return { task: named, uri };
  }
  // A load and its extract name the same partition: count partitions, not tasks.
  const byUri = new Map<string, string>();
  for (const [task, summary] of Object.entries(ctx.upstream).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const uri = partitionOf(summary);
    if (uri && !byUri.has(uri)) byUri.set(uri, task);
  }
  if (byUri.size !== 1) {
    throw nothing(
      byUri.size === 0
        ? `no upstream task of ${ctx.taskId} landed files in this run`
        : `upstream tasks of ${ctx.taskId} landed ${byUri.size} partitions (${[...byUri.values()].join(", ")})`,
      "say which with `task: <extract task id>`, or deliver a landing folder with `from:`",
    );
  }
  const [uri, task] = [...byUri][0]!;
  return { task, uri };
}

function nothing(message: string, hint: string): SftpError {
  return new SftpError("SFTP_NOTHING_TO_DELIVER", message, hint);
}
