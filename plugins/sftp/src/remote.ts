/**
 * The few remote file operations the source and the upload need, as promises over ssh2's
 * SFTP channel. They keep the server's numeric status codes, so a missing path and a
 * refused one become SFTP_NOT_FOUND and SFTP_PERMISSION_DENIED (errors.ts).
 */
import path from "node:path";
import type { Stats } from "ssh2";
import type { SftpSession } from "./connect.js";
import { remoteError } from "./errors.js";

export interface RemoteFile {
  /** Absolute (or home-relative) path on the server, `/` separated. */
  readonly path: string;
  /** The path relative to the folder that was listed. */
  readonly relative: string;
  readonly size: number;
  /** Modification time in whole seconds since the epoch, as SFTP v3 reports it. */
  readonly mtime: number;
}

function call<T>(operation: string, remotePath: string, run: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      run((err, value) => (err ? reject(remoteError(err, operation, remotePath)) : resolve(value as T)));
    } catch (e) {
      reject(remoteError(e, operation, remotePath));
    }
  });
}

export function stat(s: SftpSession, remotePath: string): Promise<Stats> {
  return call("stat", remotePath, (done) => s.sftp.stat(remotePath, done));
}

/** The file's attributes, or undefined when nothing is at the path. */
export async function statIfExists(s: SftpSession, remotePath: string): Promise<Stats | undefined> {
  try {
    return await stat(s, remotePath);
  } catch (e) {
    if ((e as { code?: unknown }).code === "SFTP_NOT_FOUND") return undefined;
    throw e;
  }
}

export function unlink(s: SftpSession, remotePath: string): Promise<void> {
  return call("delete", remotePath, (done) => s.sftp.unlink(remotePath, done));
}

/**
 * Moves `from` to `to`. With posix-rename@openssh.com this is rename(2) on the server:
 * atomic, replacing what is at `to`. Plain SFTP v3 rename refuses an existing target, so
 * without the extension the caller removes the target first (upload.ts decides when).
 */
export function rename(s: SftpSession, from: string, to: string): Promise<void> {
  if (s.posixRename) return call("rename", to, (done) => s.sftp.ext_openssh_rename(from, to, done));
  return call("rename", to, (done) => s.sftp.rename(from, to, done));
}

/** `mkdir -p`: creates the folder and its missing parents. */
export async function mkdirs(s: SftpSession, folder: string): Promise<void> {
  try {
    await s.client.mkdir(folder, true);
  } catch (e) {
    throw remoteError(e, "mkdir", folder);
  }
}

/**
 * The regular files under `folder`, walked depth-first when `recursive`, in code-point
 * order of their relative paths. Symbolic links and special files are left out: their
 * size and time are not the data's.
 */
export async function listFiles(s: SftpSession, folder: string, recursive: boolean, signal: AbortSignal): Promise<RemoteFile[]> {
  const out: RemoteFile[] = [];
  const pending = [""];
  while (pending.length > 0) {
    signal.throwIfAborted();
    const relativeDir = pending.pop()!;
    const dir = relativeDir === "" ? folder : path.posix.join(folder, relativeDir);
    const entries = await call<{ filename: string; attrs: Stats }[]>("list", dir, (done) => s.sftp.readdir(dir, done));
    for (const entry of entries) {
      if (entry.filename === "." || entry.filename === "..") continue;
      const relative = relativeDir === "" ? entry.filename : `${relativeDir}/${entry.filename}`;
      if (entry.attrs.isDirectory()) {
        if (recursive) pending.push(relative);
      } else if (entry.attrs.isFile()) {
        out.push({ path: path.posix.join(folder, relative), relative, size: entry.attrs.size, mtime: entry.attrs.mtime });
      }
    }
  }
  return out.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
}
