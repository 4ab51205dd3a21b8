/**
 * SFTP failures a user can cause or fix, with stable codes. The plugin declares this catalog
 * as its `errors`, so the core reports the codes as they are and `xo-foundry plugins` explains
 * them. Messages pass core's redactor (PluginError), so a password or key that a library
 * echoes never reaches a log.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and the fix; the codes are the keys, so none exists without its text. */
export const SFTP_ERRORS = {
  SFTP_HOST_KEY_UNKNOWN:
    "The connection names no host key to check the server against, or its known_hosts has no entry for this host. The message prints the server's fingerprint: confirm it with the server's owner, then put it in the connection's extra.host_key_fingerprint (or a known_hosts line in extra.known_hosts). Unknown hosts are never accepted.",
  SFTP_HOST_KEY_MISMATCH:
    "The server presented a host key other than the one the connection expects (extra.host_key_fingerprint or extra.known_hosts). Either the server's key changed (ask its owner, then update the connection) or something is in between you and the server: do not connect until you know which.",
  SFTP_AUTH_FAILED:
    "The server refused the login: wrong user, password or key, or the key is not in the account's authorized_keys. Fix login, password or extra.private_key (+ extra.passphrase) in the connection.",
  SFTP_CONNECTION_INVALID:
    "The connection cannot be used as written: no host or login, no password or private key, an unreadable private key, a wrong passphrase, or a host key setting in the wrong form. The message names the field.",
  SFTP_CONNECT_FAILED:
    "The server could not be reached (refused, timed out, reset), even after retries. Check host and port, the network path and firewalls, and that the SFTP server is up.",
  SFTP_NOT_FOUND: "A remote folder or file does not exist. Check the stream's `path` (or the step's `folder`) against the server.",
  SFTP_PERMISSION_DENIED: "The server refused access to a remote path for this login. Ask the server's owner for read (source) or write (upload) rights on that folder; `sftp.archive` needs write rights on both the stream's folder and the archive folder.",
  SFTP_TARGET_EXISTS:
    "A file of that name is already in the target folder and the step's `overwrite` is `fail` (the default, so that nothing a partner holds is replaced silently). Set `overwrite: skip` to keep what is there, or `overwrite: replace` to replace it.",
  SFTP_SIZE_MISMATCH:
    "A file's size on the server is not the size that was sent or listed: the upload was cut short, or the file was still being written while it was read. Re-run; for a source, set `min_age_seconds` so files still being written are left for the next run.",
  SFTP_ARCHIVE_EXISTS:
    "The archive folder already holds a file of that name while the loaded file is still in the stream's folder (or `folder` is the stream's own folder). Nothing is ever replaced, and nothing was moved: compare the two files, then remove or rename the archived one (or archive into a dated folder such as `archive/{ds}`) and re-run the step.",
  SFTP_ARCHIVE_DUPLICATE_NAME:
    "Two files of the partition have the same name in different sub-folders (a `recursive` stream), and the archive keeps names only, so one would land on the other. Nothing was moved. Split the stream by sub-folder (one stream and one archive step each), or narrow its `glob`.",
  SFTP_ARCHIVE_NOT_LOADED:
    "No load of the partition's files succeeded before this step in this run, so their rows may not be in the warehouse yet. Put the step `after:` the stream's load task (`load_<stream>`), and name that load in `task` when the step runs after several tasks.",
  SFTP_ARCHIVE_NOT_FROM_SFTP:
    "The upstream partition's files carry no `remote_path`: they were not landed by the `sftp` source. Name the `sftp` stream's load (or extract) task in `task`, or run the step after it.",
  SFTP_TRANSFER_FAILED: "Another SFTP operation failed; the message quotes the server's answer and the remote path.",
} as const satisfies Readonly<Record<`SFTP_${string}`, string>>;

export type SftpErrorCode = keyof typeof SFTP_ERRORS;

export class SftpError extends PluginError<SftpErrorCode> {
  override readonly name = "SftpError";
}

/** The SFTP status codes of draft-ietf-secsh-filexfer-02 (what OpenSSH speaks) that we tell apart. */
const SSH_FX_NO_SUCH_FILE = 2;
const SSH_FX_PERMISSION_DENIED = 3;

/**
 * A failed file operation as a coded error: what was done, on which remote path, and the
 * server's own words. ssh2 reports SFTP statuses as numeric `code`s; ssh2-sftp-client
 * turns some of them into errno-like strings, so both spellings are read.
 */
export function remoteError(e: unknown, operation: string, remotePath: string): SftpError {
  if (e instanceof SftpError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const detail = e instanceof Error ? e.message : String(e);
  const what = `SFTP ${operation} of ${JSON.stringify(remotePath)} failed: ${detail}`;
  if (code === SSH_FX_NO_SUCH_FILE || code === "ENOENT") {
    return new SftpError("SFTP_NOT_FOUND", what, "check the path against the server (paths are absolute, or relative to the login's home folder)", { cause: e });
  }
  if (code === SSH_FX_PERMISSION_DENIED || code === "EACCES") {
    return new SftpError("SFTP_PERMISSION_DENIED", what, "ask the server's owner for access to this path for the connection's login", { cause: e });
  }
  return new SftpError("SFTP_TRANSFER_FAILED", what, "re-run; if it persists, the server's message above says why", { cause: e });
}
