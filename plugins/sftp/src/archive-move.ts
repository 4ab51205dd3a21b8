/**
 * Moving loaded files into an archive folder on the server. Every file is looked at before
 * any moves, so a conflict stops the step with the stream's folder as it was. What is found
 * decides what happens, which makes a re-run (or an Airflow retry after a kill) finish the
 * job instead of failing on its own earlier moves:
 *
 *   source there, archive free        -> move it
 *   source there, archive taken       -> SFTP_ARCHIVE_EXISTS (never replaced, whatever the sizes)
 *   source gone,  archive same size   -> already archived by an earlier run
 *   source gone,  archive other size  -> missing (warned: someone else's file is there)
 *   source gone,  no archive          -> missing (warned: moved or deleted by someone else)
 *
 * The move is the plain SFTP rename, never posix-rename: OpenSSH links the new name and
 * fails if it exists, so a file that appears in the archive after the look is kept too.
 */
import path from "node:path";
import type { Stats } from "ssh2";
import type { SftpSession } from "./connect.js";
import { SftpError } from "./errors.js";
import { rename, statIfExists } from "./remote.js";

/** A loaded file as the source listed it. */
export interface ArchiveFile {
  /** Its path on the server (manifest metadata `remote_path`). */
  readonly source: string;
  /** Its size on the server when it was listed (metadata `size`), if known. */
  readonly bytes: number | undefined;
}

export type ArchiveOutcome = "moved" | "already" | "missing";

export interface ArchiveStep {
  readonly file: ArchiveFile;
  readonly target: string;
  readonly action: "move" | "already" | "missing";
  /** Why a file is missing, for the warning. */
  readonly note?: string;
}

/** Where a file goes: its name in the archive folder. */
export function archiveTarget(folder: string, source: string): string {
  return path.posix.join(folder, path.posix.basename(source));
}

/**
 * Refuses two files that would meet on one archive name (a recursive stream's
 * `2026/01/x.csv` and `2026/02/x.csv`), before anything is moved.
 */
export function refuseDuplicateNames(files: readonly ArchiveFile[], folder: string): void {
  const seen = new Map<string, string>();
  for (const file of files) {
    const target = archiveTarget(folder, file.source);
    const first = seen.get(target);
    if (first !== undefined) {
      throw new SftpError(
        "SFTP_ARCHIVE_DUPLICATE_NAME",
        `${first} and ${file.source} would both be archived as ${target}; nothing was moved`,
        "the archive keeps file names only: split the recursive stream by sub-folder (one stream and one archive step each), or narrow its `glob`",
      );
    }
    seen.set(target, file.source);
  }
}

/** Looks at every file and its archive name; stops on a conflict before anything moved, naming how many there are. */
export async function planArchive(session: SftpSession, files: readonly ArchiveFile[], folder: string, signal: AbortSignal): Promise<ArchiveStep[]> {
  const plan: ArchiveStep[] = [];
  const conflicts: Conflict[] = [];
  for (const file of files) {
    signal.throwIfAborted();
    const target = archiveTarget(folder, file.source);
    if (path.posix.normalize(target) === path.posix.normalize(file.source)) throw intoItsOwnFolder(file.source, folder);
    const found = decide(file, target, await statIfExists(session, file.source), await statIfExists(session, target));
    if ("conflict" in found) conflicts.push(found.conflict);
    else plan.push(found);
  }
  const [first] = conflicts;
  const more = conflicts.length > 1 ? `, as for ${conflicts.length - 1} more file(s) of the partition` : "";
  if (first) throw exists(first, `${more}; nothing was moved`);
  return plan;
}

/**
 * Moves one planned file. When the rename fails, the two paths are looked at again: another
 * run of the step may have moved the file meanwhile (already), or a file may have appeared
 * in the archive (a conflict); only a failure with nothing changed is reported as it is.
 */
export async function moveIntoArchive(session: SftpSession, step: ArchiveStep): Promise<{ readonly outcome: ArchiveOutcome; readonly note?: string }> {
  if (step.action !== "move") return { outcome: step.action, ...(step.note !== undefined ? { note: step.note } : {}) };
  try {
    await rename({ ...session, posixRename: false }, step.file.source, step.target);
    return { outcome: "moved" };
  } catch (e) {
    const again = decide(step.file, step.target, await statIfExists(session, step.file.source), await statIfExists(session, step.target));
    if ("conflict" in again) throw exists(again.conflict, " (it appeared while the step was moving files; the files before it were archived, the rest are where they were)");
    if (again.action === "move") throw e;
    return { outcome: again.action, ...(again.note !== undefined ? { note: again.note } : {}) };
  }
}

interface Conflict {
  readonly source: string;
  readonly target: string;
  readonly sourceBytes: number;
  readonly targetBytes: number;
}

function decide(file: ArchiveFile, target: string, source: Stats | undefined, archived: Stats | undefined): ArchiveStep | { readonly conflict: Conflict } {
  if (source && archived) return { conflict: { source: file.source, target, sourceBytes: source.size, targetBytes: archived.size } };
  if (source) return { file, target, action: "move" };
  if (!archived) return { file, target, action: "missing", note: `${file.source} is gone and ${target} does not exist: someone else moved or deleted it` };
  if (file.bytes === undefined || archived.size === file.bytes) return { file, target, action: "already" };
  return {
    file,
    target,
    action: "missing",
    note: `${file.source} is gone, and ${target} holds ${archived.size} bytes, not the ${file.bytes} that were loaded: it is another file, left as it is`,
  };
}

function exists(c: Conflict, context: string): SftpError {
  const sizes = c.sourceBytes === c.targetBytes ? `both ${c.sourceBytes} bytes` : `${c.sourceBytes} and ${c.targetBytes} bytes`;
  return new SftpError(
    "SFTP_ARCHIVE_EXISTS",
    `cannot archive ${c.source}: ${c.target} already exists (${sizes}), and an archived file is never replaced${context}`,
    `compare the two files, then remove or rename ${c.target} (or archive into a dated folder such as \`archive/{ds}\`) and re-run the step`,
  );
}

function intoItsOwnFolder(source: string, folder: string): SftpError {
  return new SftpError(
    "SFTP_ARCHIVE_EXISTS",
    `cannot archive ${source} into ${folder}: that is the folder the file is in`,
    "set the step's `folder` to another folder than the stream's `path`, e.g. `archive/{ds}`",
  );
}
