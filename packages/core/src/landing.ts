/**
 * A landing zone is object storage addressed by URIs (`file://` built in, `s3://`
 * from a plugin). Writers publish a whole partition at once so a reader never
 * sees half of one.
 */
export interface LandingObject {
  readonly uri: string;
  readonly bytes: number;
}

export interface LandingStore {
  /** Streams `body` to `uri`, creating parents; returns bytes written and sha256 (hex). */
  write(uri: string, body: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }>;
  read(uri: string): AsyncIterable<Uint8Array>;
  /** Whole small objects (manifests). Returns undefined when the object is missing. */
  readText(uri: string): Promise<string | undefined>;
  writeText(uri: string, text: string): Promise<void>;
  /**
   * Writes a small object only if nothing exists at `uri`, atomically (a hard link of a
   * complete temporary file on disk, PutObject with `If-None-Match: *` on S3). Resolves
   * false when the object already exists. The runtime's partition locks need it; a store
   * without it runs unlocked, with a warning.
   */
  createText?(uri: string, text: string): Promise<boolean>;
  /**
   * Makes an object also appear at `toUri` without passing its bytes through this process,
   * sharing the bytes where the store can: a hard link on disk, CopyObject (server-side) on
   * S3. Landed objects are never changed in place, so a shared object is as good as a copy.
   * Optional: without it, callers stream read into write.
   */
  copy?(fromUri: string, toUri: string): Promise<void>;
  list(prefixUri: string): Promise<readonly LandingObject[]>;
  /** Removes every object under the prefix. */
  deletePrefix(prefixUri: string): Promise<void>;
  /** A local path for reading `uri` (the file itself for `file://`, a download otherwise). */
  localPath(uri: string): Promise<string>;
}
