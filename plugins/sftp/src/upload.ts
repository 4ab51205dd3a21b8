/**
 * The `sftp.upload` step: delivers the files an upstream task landed (or a landing folder)
 * to a folder on an SFTP server, one at a time over one session, each atomically
 * (deliver.ts). Names depend only on the landed names and the logical date, so a re-run of
 * a date meets its own files again.
 *
 * The step keeps a ledger of what it delivered (target path -> sha256 and size, in its own
 * state), written after each file. A target that is in the ledger with the landed file's
 * checksum and still has its size was delivered by an earlier run: it is not sent again. A
 * target in the ledger with other content is this step's own earlier delivery and is
 * replaced. Only files the step did not write are left to the overwrite policy: `skip`
 * keeps them, `replace` replaces them, `fail` stops.
 */
import path from "node:path";
import { fillDeliveryName, stepStateKey, upstreamFiles, type JsonObject, type StepType } from "@xo-foundry/core";
import { folderUri, openSession } from "./connect.js";
import { deliver } from "./deliver.js";
import { uploadOptions, type UploadOptions } from "./options.js";
import { mkdirs, statIfExists } from "./remote.js";

export const sftpUpload: StepType<UploadOptions> = {
  id: "sftp.upload",
  description: "Delivers the files an upstream task landed to a folder on an SFTP server: atomic renames, mkdir -p, an overwrite policy and a size check.",
  options: uploadOptions,
  connection: "required",
  canSkip: false,
  // The server is known here only by its connection id: two ids for one server are not caught.
  destination: ({ options, connection }) => `sftp://${connection ?? ""}${path.posix.join("/", options.folder, options.name)}`,
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const options = ctx.options;
    const landed = await upstreamFiles(ctx, { task: options.task, from: options.from });
    const ds = ctx.window.logicalDate;
    const fill = (template: string, name?: string) => fillDeliveryName(template, ds, name);
    const folder = path.posix.normalize(fill(options.folder));

    const ledgerKey = stepStateKey("upload", ctx.taskId);
    const ledger = { ...(((await ctx.state.get(ledgerKey))?.value.files ?? {}) as unknown as Record<string, LedgerEntry>) };
    const session = await openSession(ctx.connection, { retries: options.retries, timeoutSeconds: options.timeout_seconds }, ctx);
    let sent = 0;
    let skipped = 0;
    let unchanged = 0;
    let bytes = 0;
    try {
      await mkdirs(session, folder);
      for (const file of landed.files) {
        ctx.signal.throwIfAborted();
        const name = fill(options.name, file.name);
        const target = path.posix.join(folder, name);
        const ours = ledger[target];
        const there = ours ? await statIfExists(session, target) : undefined;
        if (ours && there && file.sha256 !== undefined && ours.sha256 === file.sha256 && there.size === ours.bytes) {
          unchanged++;
          ctx.log.info(`kept ${target}: delivered before with the same content`);
          continue;
        }
        const done = await deliver(session, ctx.landing.store.read(file.uri), { folder, name, bytes: file.bytes }, there ? "replace" : options.overwrite, ctx.signal);
        if (done.outcome === "sent") {
          sent++;
          bytes += done.bytes;
          ctx.log.info(`delivered ${done.target} (${done.bytes} bytes)`);
          if (file.sha256 !== undefined) {
            delete ledger[target];
            ledger[target] = { sha256: file.sha256, bytes: done.bytes };
            await ctx.state.set(ledgerKey, { files: recent(ledger) as unknown as JsonObject }, { runId: ctx.runId, logicalDate: ds });
          }
        } else {
          skipped++;
          ctx.log.info(`kept ${done.target}: it is already there (overwrite: skip)`);
        }
      }
    } finally {
      await session.close();
    }
    return {
      summary: { files: landed.files.length, sent, unchanged, skipped, bytes, folder },
      reads: [{ uri: landed.from }],
      writes: [{ uri: folderUri(ctx.connection, folder) }],
    };
  },
};

interface LedgerEntry {
  readonly sha256: string;
  readonly bytes: number;
}

/** The ledger stays small JSON: the most recent deliveries are the ones a re-run meets again. */
const LEDGER_SIZE = 1000;

function recent(ledger: Record<string, LedgerEntry>): Record<string, LedgerEntry> {
  const entries = Object.entries(ledger);
  return Object.fromEntries(entries.slice(Math.max(0, entries.length - LEDGER_SIZE)));
}
