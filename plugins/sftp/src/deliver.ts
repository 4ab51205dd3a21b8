/**
 * Delivering one file so that a partner polling the folder never picks up half of it: the
 * bytes go to `.<name>.xo-partial` (a dot file, which partners' globs skip), the size is
 * checked with a stat, and only then is it renamed into place.
 *
 * The rename depends on the overwrite policy. `replace` uses posix-rename@openssh.com when
 * the server offers it: rename(2), atomic, and the old file stays readable until the new one
 * replaces it. Without it, the old file is removed first (a short moment with no file).
 * `fail` and `skip` use the plain SFTP rename, which never replaces (OpenSSH links the new
 * name, failing if it exists), so a file that appears between our check and the rename is
 * not overwritten either.
 */
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { SftpSession } from "./connect.js";
import { remoteError, SftpError } from "./errors.js";
import { rename, stat, statIfExists, unlink } from "./remote.js";

export type Overwrite = "fail" | "skip" | "replace";

export interface Delivery {
  readonly target: string;
  readonly outcome: "sent" | "skipped";
  readonly bytes: number;
}

/** The temporary a delivery writes first; a killed run leaves it behind and the next one removes it. */
export function partialName(name: string): string {
  return `.${name}.xo-partial`;
}

export async function deliver(
  session: SftpSession,
  body: AsyncIterable<Uint8Array>,
  target: { readonly folder: string; readonly name: string; readonly bytes: number | undefined },
  overwrite: Overwrite,
  signal: AbortSignal,
): Promise<Delivery> {
  const final = path.posix.join(target.folder, target.name);
  const existing = await statIfExists(session, final);
  if (existing) {
    if (overwrite === "skip") return { target: final, outcome: "skipped", bytes: existing.size };
    if (overwrite === "fail") throw exists(final);
  }
  const partial = path.posix.join(target.folder, partialName(target.name));
  await unlinkIfExists(session, partial);

  let sent = 0;
  const counted = async function* () {
    for await (const chunk of body) {
      sent += chunk.length;
      yield chunk;
    }
  };
  const remote = session.sftp.createWriteStream(partial, { flags: "w", mode: 0o644 });
  // A handle closed after an abort answers once the session is gone; that late failure is expected.
  remote.on("error", () => {});
  try {
    await pipeline(Readable.from(counted()), remote as unknown as Writable, { signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw remoteError(e, "write", partial);
  }

  const written = (await stat(session, partial)).size;
  const expected = target.bytes ?? sent;
  if (written !== sent || written !== expected) {
    await unlinkIfExists(session, partial);
    throw new SftpError(
      "SFTP_SIZE_MISMATCH",
      `${partial} holds ${written} bytes after the upload, but ${sent} were sent${target.bytes !== undefined ? ` of ${target.bytes} landed` : ""}`,
      "re-run the step; if it repeats, the server may be out of space or alter files on upload (check its quota and text-mode settings)",
    );
  }

  signal.throwIfAborted();
  const outcome = await moveIntoPlace(session, partial, final, overwrite);
  return { target: final, outcome, bytes: written };
}

async function moveIntoPlace(session: SftpSession, partial: string, final: string, overwrite: Overwrite): Promise<Delivery["outcome"]> {
  if (overwrite === "replace") {
    if (!session.posixRename) await unlinkIfExists(session, final);
    await rename(session, partial, final);
    return "sent";
  }
  try {
    await rename({ ...session, posixRename: false }, partial, final);
    return "sent";
  } catch (e) {
    // Someone wrote the same name since we looked: keep theirs.
    if (!(await statIfExists(session, final))) throw e;
    await unlinkIfExists(session, partial);
    if (overwrite === "fail") throw exists(final);
    return "skipped";
  }
}

async function unlinkIfExists(session: SftpSession, remotePath: string): Promise<void> {
  try {
    await unlink(session, remotePath);
  } catch (e) {
    if ((e as { code?: unknown }).code !== "SFTP_NOT_FOUND") throw e;
  }
}

function exists(final: string): SftpError {
  return new SftpError(
    "SFTP_TARGET_EXISTS",
    `${final} already exists on the server, and the step's overwrite is "fail"`,
    "set `overwrite: skip` to keep the file that is there (a re-run then sends nothing twice), or `overwrite: replace` to replace it",
  );
}
