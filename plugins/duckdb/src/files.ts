/**
 * Turns the manifest into local files DuckDB can read. DuckDB treats `*`, `?` and
 * `[...]` in a path as a glob (a file named `a[1].csv` would read `a1.csv`), so such
 * paths are read through an alias with a plain name instead.
 */
import { copyFile, mkdtemp, rm, stat, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FileFormat, LoadContext } from "@xo-foundry/core";

export interface LocalFile {
  readonly path: string;
  readonly format: FileFormat;
}

export interface LocalFiles {
  readonly files: readonly LocalFile[];
  /** Removes the aliases made for glob-unsafe paths. */
  cleanup(): Promise<void>;
}

const GLOB_CHAR = /[*?[\]{}]/;
const GLOB_CHARS = new RegExp(GLOB_CHAR.source, "g");

export async function localFiles(ctx: LoadContext): Promise<LocalFiles> {
  const files: LocalFile[] = [];
  let aliasDir: string | undefined;
  for (const [index, file] of ctx.manifest.files.entries()) {
    ctx.signal.throwIfAborted();
    let local = path.resolve(ctx.projectDir, await ctx.localPath(file));
    // A zero-byte file has no rows and no header; DuckDB would invent a `json` column for it.
    if ((await stat(local)).size === 0) {
      ctx.log.debug("skipping empty file", { uri: file.uri });
      continue;
    }
    if (GLOB_CHAR.test(local)) {
      aliasDir ??= await mkdtemp(path.join(os.tmpdir(), "xo-duckdb-"));
      // Keep the original suffix: DuckDB picks the compression (.gz, .zst) from it.
      const alias = path.join(aliasDir, `${index}-${path.basename(local).replace(GLOB_CHARS, "_")}`);
      await symlink(local, alias).catch(() => copyFile(local, alias));
      local = alias;
    }
    files.push({ path: local, format: file.format });
  }
  return {
    files,
    async cleanup() {
      if (aliasDir) await rm(aliasDir, { recursive: true, force: true });
    },
  };
}
