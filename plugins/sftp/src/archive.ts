/**
 * The `sftp.archive` step: after an `sftp` stream's load, moves the files that load read out
 * of the stream's folder into an archive folder on the same server, so the partner's drop
 * folder holds only what has not been loaded yet.
 *
 * It works from the landed partition's manifest, where the source wrote each file's
 * `remote_path` and listed `size`, and it refuses to run unless a load of that partition
 * succeeded before it in this run: a file leaves the drop folder only once its rows are in
 * the warehouse. Moves are renames on the server (archive-move.ts): no bytes travel, the
 * modification time stays, and nothing in the archive is ever replaced.
 *
 * No `destination`: validation uses it to refuse two steps that write to one place, but two
 * streams archiving into one folder (`archive/{ds}`) is an ordinary setup, and a clash of
 * names cannot lose a file here (SFTP_ARCHIVE_EXISTS stops the step instead).
 */
import path from "node:path";
import { fillDeliveryName, upstreamFiles, type StepContext, type StepType, type UpstreamFiles } from "@xo-foundry/core";
import { folderUri, openSession } from "./connect.js";
import { SftpError } from "./errors.js";
import { moveIntoArchive, planArchive, refuseDuplicateNames, type ArchiveFile } from "./archive-move.js";
import { archiveOptions, type ArchiveOptions } from "./options.js";
import { mkdirs } from "./remote.js";

export const sftpArchive: StepType<ArchiveOptions> = {
  id: "sftp.archive",
  description:
    "After an sftp stream's load, moves the loaded files into an archive folder on the same server: plain renames that never replace, mkdir -p, and re-runs that finish what an earlier run started.",
  options: archiveOptions,
  connection: "required",
  canSkip: false,
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const options = ctx.options;
    const landed = await upstreamFiles(ctx, { task: options.task });
    requireLoaded(ctx, landed);
    const files = remoteFiles(ctx.taskId, landed);
    const ds = ctx.window.logicalDate;
    const folder = path.posix.normalize(fillDeliveryName(options.folder, ds));
    refuseDuplicateNames(files, folder);

    const counts = { moved: 0, already: 0, missing: 0 };
    if (files.length > 0) {
      const session = await openSession(ctx.connection, { retries: options.retries, timeoutSeconds: options.timeout_seconds }, ctx);
      try {
        const plan = await planArchive(session, files, folder, ctx.signal);
        if (plan.some((step) => step.action === "move")) await mkdirs(session, folder);
        for (const step of plan) {
          ctx.signal.throwIfAborted();
          const { outcome, note } = await moveIntoArchive(session, step);
          counts[outcome]++;
          if (outcome === "moved") ctx.log.info(`archived ${step.file.source} as ${step.target}`);
          else if (outcome === "already") ctx.log.info(`${step.file.source} was archived before, as ${step.target}`);
          else ctx.log.warn(`not archived: ${note ?? step.file.source}`);
        }
      } finally {
        await session.close();
      }
    }
    return {
      summary: { files: files.length, ...counts, folder },
      reads: [{ uri: landed.from }],
      writes: [{ uri: folderUri(ctx.connection, folder) }],
    };
  },
};

/** The partition must have been loaded in this run, by a load task this step ran after. */
function requireLoaded(ctx: Pick<StepContext, "taskId" | "upstream">, landed: UpstreamFiles): void {
  const loads = Object.values(ctx.upstream).filter((s) => s.step === "load" && s.state === "success" && s.reads.some((r) => r.uri === landed.from));
  if (loads.length > 0) return;
  throw new SftpError(
    "SFTP_ARCHIVE_NOT_LOADED",
    `step ${ctx.taskId} would archive the files of ${published(landed)}, but no load of that partition succeeded before it in this run`,
    "run the step after the stream's load task (`after: [load_<stream>]`); files leave the server's folder only once their rows are loaded",
  );
}

/** The files the source listed on the server, from the manifest's metadata. */
function remoteFiles(taskId: string, landed: UpstreamFiles): ArchiveFile[] {
  const manifestFiles = landed.manifest?.files ?? [];
  const files = manifestFiles.flatMap((f): ArchiveFile[] => {
    const source = f.metadata?.remote_path;
    const size = f.metadata?.size;
    return typeof source === "string" && source !== "" ? [{ source, bytes: typeof size === "number" ? size : undefined }] : [];
  });
  if (manifestFiles.length > 0 && files.length === 0) {
    throw new SftpError(
      "SFTP_ARCHIVE_NOT_FROM_SFTP",
      `step ${taskId}: the files of ${published(landed)} have no \`remote_path\` in their manifest metadata, so they did not come from the sftp source`,
      "name the sftp stream's load task in `task` (e.g. `task: load_orders`), or run the step directly after it",
    );
  }
  return files;
}

function published(landed: UpstreamFiles): string {
  return landed.task !== undefined ? `${landed.from} (task ${landed.task})` : landed.from;
}
