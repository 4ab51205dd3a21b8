/**
 * The `sftp.upload` step: delivers the files an upstream task landed (or a landing folder)
 * to a folder on an SFTP server, one at a time over one session, each atomically
 * (deliver.ts). Names depend only on the landed names and the logical date, so a re-run of
 * a date meets its own files again and the overwrite policy decides: `skip` sends nothing
 * twice, `replace` replaces in place, `fail` stops.
 */
import path from "node:path";
import { upstreamFiles, type StepType } from "@xo-foundry/core";
import { openSession } from "./connect.js";
import { deliver } from "./deliver.js";
import { uploadOptions, type UploadOptions } from "./options.js";
import { mkdirs } from "./remote.js";

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
    const fill = (template: string, name = "") =>
      template.replaceAll("{ds_nodash}", ds.replaceAll("-", "")).replaceAll("{ds}", ds).replaceAll("{name}", name);
    const folder = path.posix.normalize(fill(options.folder));

    const session = await openSession(ctx.connection, { retries: options.retries, timeoutSeconds: options.timeout_seconds }, ctx);
    let sent = 0;
    let skipped = 0;
    let bytes = 0;
    try {
      await mkdirs(session, folder);
      for (const file of landed.files) {
        ctx.signal.throwIfAborted();
        const name = fill(options.name, file.name);
        const done = await deliver(session, ctx.landing.store.read(file.uri), { folder, name, bytes: file.bytes }, options.overwrite, ctx.signal);
        if (done.outcome === "sent") {
          sent++;
          bytes += done.bytes;
          ctx.log.info(`delivered ${done.target} (${done.bytes} bytes)`);
        } else {
          skipped++;
          ctx.log.info(`kept ${done.target}: it is already there (overwrite: skip)`);
        }
      }
    } finally {
      await session.close();
    }
    const server = `sftp://${ctx.connection?.host ?? ""}${ctx.connection?.port ? `:${ctx.connection.port}` : ""}`;
    return {
      summary: { files: landed.files.length, sent, skipped, bytes, folder },
      reads: [{ uri: landed.from }],
      writes: [{ uri: `${server}${folder.startsWith("/") ? "" : "/"}${folder}` }],
    };
  },
};
