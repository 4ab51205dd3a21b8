/**
 * Files that steps write and read through the landing zone, the way extracts and loads do.
 *
 * A step that produces files (an export) publishes them as a stage partition of its own,
 *
 *   <landing>/stage/<pipeline>/_steps/<task id>/<strategy>/<partition>/{part-00000.csv,_manifest.json,_SUCCESS}
 *
 * replaced whole by a re-run of the date, and names it in its summary (`summary.partition`).
 * A step that delivers files (an upload, an API export) finds them from its upstream
 * tasks' summaries: the partition's manifest lists the files with sizes and checksums, and
 * the `_SUCCESS` marker says the partition is complete. `_steps` starts with an underscore,
 * which no stream name does, so a step's partition never meets a stream's.
 */
import { createReadStream } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { xoError } from "./errors.js";
import { joinUri, MANIFEST_FILE, partitionSegment, SUCCESS_MARKER, type LandingPaths } from "./paths.js";
import type { LandingStore } from "./landing.js";
import type { FileFormat, JsonObject, Manifest, ManifestFile, StepContext, TaskSummary } from "./plugin.js";

/** The stage partition that task `taskId` of a step publishes for the run's date. */
export function stepPartition(ctx: Pick<StepContext, "pipeline" | "taskId" | "window" | "landing">): LandingPaths {
  const strategy = ctx.pipeline.pipeline.load_strategy;
  const stage = joinUri(ctx.landing.root, "stage", ctx.pipeline.pipeline.name, "_steps", ctx.taskId, strategy, partitionSegment(strategy, ctx.window));
  return { ingest: stage, stage, manifest: joinUri(stage, MANIFEST_FILE), marker: joinUri(stage, SUCCESS_MARKER) };
}

/**
 * Where a delivery step writes the records a destination refused, one JSON object per line:
 * `<landing>/rejected/<pipeline>/<task id>/<strategy>/<partition>/rejected.ndjson`, replaced by
 * a re-run of the date, so the file always describes the latest attempt.
 */
export function rejectedRecordsUri(ctx: Pick<StepContext, "pipeline" | "taskId" | "window" | "landing">): string {
  const strategy = ctx.pipeline.pipeline.load_strategy;
  return joinUri(ctx.landing.root, "rejected", ctx.pipeline.pipeline.name, ctx.taskId, strategy, partitionSegment(strategy, ctx.window), "rejected.ndjson");
}

/**
 * A state key of a step's own, for `ctx.state` and `StepResult.state`: `<kind>__<task id>`,
 * dots as `__`, so it never meets a stream's key (validation refuses stream names with `__`).
 */
export function stepStateKey(kind: string, taskId: string): string {
  return `${kind}__${taskId.replaceAll(".", "__")}`;
}

/** A file a step wrote on local disk, to be published. */
export interface LocalFile {
  readonly path: string;
  readonly format: FileFormat;
  readonly rows?: number;
}

/**
 * Publishes local files as the step's partition: the marker goes first, the old files go,
 * the files and the manifest are written, and the marker comes back last, so a reader never
 * takes half a partition for a whole one.
 */
export async function publishStepFiles(
  ctx: Pick<StepContext, "pipeline" | "taskId" | "window" | "landing" | "runId">,
  files: readonly LocalFile[],
  state?: JsonObject,
): Promise<Manifest> {
  const paths = stepPartition(ctx);
  const store = ctx.landing.store;
  await store.deletePrefix(paths.marker);
  await store.deletePrefix(paths.stage);
  const landed: ManifestFile[] = [];
  for (const file of files) {
    const uri = joinUri(paths.stage, path.basename(file.path));
    const written = await store.write(uri, createReadStream(file.path));
    const size = (await stat(file.path)).size;
    if (written.bytes !== size) throw new Error(`${uri} received ${written.bytes} of ${size} bytes`);
    landed.push({ uri, format: file.format, bytes: written.bytes, sha256: written.sha256, ...(file.rows !== undefined ? { rows: file.rows } : {}) });
  }
  const manifest: Manifest = {
    version: 1,
    pipeline: ctx.pipeline.pipeline.name,
    stream: ctx.taskId,
    strategy: ctx.pipeline.pipeline.load_strategy,
    logicalDate: ctx.window.logicalDate,
    runId: ctx.runId,
    partition: paths.stage,
    files: landed,
    rows: landed.reduce((n, f) => n + (f.rows ?? 0), 0),
    bytes: landed.reduce((n, f) => n + f.bytes, 0),
    ...(state !== undefined ? { state } : {}),
  };
  await store.writeText(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  await store.writeText(paths.marker, "");
  return manifest;
}

export interface UpstreamFile {
  readonly uri: string;
  /** The file's name in the landing zone (sub-folders of a `from:` folder joined with `__`). */
  readonly name: string;
  readonly bytes: number;
  readonly format?: FileFormat;
  readonly rows?: number;
  readonly sha256?: string;
}

export interface UpstreamFiles {
  /** The partition or folder URI the files came from. */
  readonly from: string;
  /** The task that published them, when they came from one. */
  readonly task?: string;
  readonly files: readonly UpstreamFile[];
  /** The partition's manifest, when they came from one. */
  readonly manifest?: Manifest;
}

export interface UpstreamFilesOptions {
  /** The upstream task whose partition to take; needed only when several published one. */
  readonly task?: string | undefined;
  /** A folder of the landing zone (relative to its root) to take every file of, instead. */
  readonly from?: string | undefined;
}

/**
 * Fills a delivery's folder or file name: `{ds}` and `{ds_nodash}` are the run's logical date,
 * `{name}` the delivered file's name. Names depend only on these, so a re-run of a date meets
 * the files it delivered before.
 */
export function fillDeliveryName(template: string, logicalDate: string, name = ""): string {
  return template.replaceAll("{ds_nodash}", logicalDate.replaceAll("-", "")).replaceAll("{ds}", logicalDate).replaceAll("{name}", name);
}

/** Whether `template` holds a placeholder other than `{ds}`, `{ds_nodash}` (and `{name}` when allowed): a typo. */
export function hasUnknownPlaceholder(template: string, options: { readonly name: boolean }): boolean {
  return (options.name ? /\{(?!ds\}|ds_nodash\}|name\})[^}]*\}/ : /\{(?!ds\}|ds_nodash\})[^}]*\}/).test(template);
}

/**
 * A delivery step's `task` and `from` options, for its zod schema: `verb` says what the step
 * does with the files ("deliver", "send the records of"). Refine the whole schema with
 * `checkUpstreamFilesOptions`, which refuses both at once.
 */
export function upstreamFilesOptionsShape(verb: string) {
  return {
    task: z
      .string()
      .min(1)
      .optional()
      .describe("The upstream task whose published files this step takes (an export, extract or load task id). By default the partition of the task it runs directly after, else the one upstream task of this run that published files."),
    from: z
      .string()
      .min(1)
      .refine((f) => !f.startsWith("/") && !f.split("/").includes(".."), "a landing-relative folder, without a leading `/` or `..`")
      .optional()
      .describe(`Instead of \`task\`, ${verb} every file under this folder of the landing zone (relative to its root), in name order, e.g. \`exports/orders\`.`),
  };
}

export function checkUpstreamFilesOptions(options: UpstreamFilesOptions, ctx: z.RefinementCtx): void {
  if (options.task !== undefined && options.from !== undefined) ctx.addIssue({ code: "custom", path: ["from"], message: "give `task` or `from`, not both" });
}

/**
 * The files a delivery step sends: the partition one upstream task published in this run
 * (an extract, the load that read it, or a step such as an export), or a landing folder.
 */
export async function upstreamFiles(ctx: Pick<StepContext, "taskId" | "upstream" | "after" | "landing">, options: UpstreamFilesOptions): Promise<UpstreamFiles> {
  const { store, root } = ctx.landing;
  if (options.from !== undefined) {
    const folder = joinUri(root, options.from);
    const objects = await store.list(folder);
    const files = objects
      .map((o) => ({ uri: o.uri, bytes: o.bytes, relative: o.uri.slice(folder.length + 1) }))
      // Markers and manifests (`_SUCCESS`) and writers' temporaries (`.x.tmp`) are not deliverables.
      .filter((o) => !o.relative.split("/").some((part) => part.startsWith("_") || part.startsWith(".")))
      .map((o) => ({ uri: o.uri, bytes: o.bytes, name: o.relative.split("/").join("__") }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { from: folder, files };
  }
  const partition = upstreamPartition(ctx, options.task);
  const manifest = await readStepPartition(store, partition.uri);
  if (!manifest) {
    throw nothing(ctx.taskId, `the partition ${partition.uri} of task ${partition.task} is incomplete (no ${SUCCESS_MARKER} or ${MANIFEST_FILE})`, "re-run the upstream task first");
  }
  return {
    from: partition.uri,
    task: partition.task,
    manifest,
    files: manifest.files.map((f) => ({
      uri: f.uri,
      name: f.uri.slice(f.uri.lastIndexOf("/") + 1),
      bytes: f.bytes,
      format: f.format,
      sha256: f.sha256,
      ...(f.rows !== undefined ? { rows: f.rows } : {}),
    })),
  };
}

/** The manifest of a complete partition, or undefined when it is missing or incomplete. */
export async function readStepPartition(store: LandingStore, partitionUri: string): Promise<Manifest | undefined> {
  if ((await store.readText(joinUri(partitionUri, SUCCESS_MARKER))) === undefined) return undefined;
  const text = await store.readText(joinUri(partitionUri, MANIFEST_FILE));
  return text === undefined ? undefined : (JSON.parse(text) as Manifest);
}

/** The stage partition a task published or loaded, if it names one. */
function partitionOf(summary: TaskSummary): string | undefined {
  if (summary.state !== "success") return undefined;
  if (typeof summary.summary.partition === "string") return summary.summary.partition;
  return summary.step === "load" ? summary.reads[0]?.uri : undefined;
}

function upstreamPartition(ctx: Pick<StepContext, "taskId" | "upstream" | "after">, named: string | undefined): { task: string; uri: string } {
  if (named !== undefined) {
    const summary = ctx.upstream[named];
    if (!summary) {
      throw nothing(
        ctx.taskId,
        `task ${JSON.stringify(named)} is not upstream of it in this run (upstream: ${Object.keys(ctx.upstream).join(", ") || "none"})`,
        "name a task this step runs after (`after:`), or make the step run after it",
      );
    }
    const uri = partitionOf(summary);
    if (!uri) throw nothing(ctx.taskId, `task ${named} published no partition (step ${summary.step}, ${summary.state})`, "name an extract, load or export task, or use `from:` with a landing folder");
    return { task: named, uri };
  }
  // A load and its extract name the same partition: count partitions, not tasks. The tasks
  // the step runs directly after come first (an export after the loads it reads), then the
  // rest of its ancestors.
  const partitions = (tasks: readonly string[]) => {
    const byUri = new Map<string, string>();
    for (const task of [...tasks].sort()) {
      const summary = ctx.upstream[task];
      const uri = summary ? partitionOf(summary) : undefined;
      if (uri && !byUri.has(uri)) byUri.set(uri, task);
    }
    return byUri;
  };
  const direct = partitions(ctx.after);
  const byUri = direct.size > 0 ? direct : partitions(Object.keys(ctx.upstream));
  if (byUri.size !== 1) {
    throw nothing(
      ctx.taskId,
      byUri.size === 0 ? "no upstream task published files in this run" : `upstream tasks published ${byUri.size} partitions (${[...byUri.values()].join(", ")})`,
      "say which with `task: <upstream task id>`, or deliver a landing folder with `from:`",
    );
  }
  const [uri, task] = [...byUri][0]!;
  return { task, uri };
}

function nothing(task: string, detail: string, hint: string) {
  return xoError("XO_NOTHING_TO_DELIVER", { task, detail, hint });
}

/**
 * The name of part `index` of a `Warehouse.exportQuery` result: `part-00000.csv`, five digits
 * at least, so that names sort in the parts' order up to 100 000 parts.
 */
export function exportPartName(index: number, extension: string): string {
  return `part-${String(index).padStart(5, "0")}${extension}`;
}

/** Removes the parts numbered `from` and up that an earlier export left in `folder`. */
export async function removeExportParts(folder: string, extension: string, from: number): Promise<void> {
  const pattern = /^part-(\d{5,})(\.[a-z]+)$/;
  for (const name of await readdir(folder)) {
    const match = pattern.exec(name);
    if (match && match[2] === extension && Number(match[1]) >= from) await rm(path.join(folder, name), { force: true });
  }
}
