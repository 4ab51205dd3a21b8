/**
 * Which remote files a run takes, and under which names they land. Pure functions of the
 * listing, the window and the saved state, so two runs over the same server agree.
 */
import { createHash } from "node:crypto";
import picomatch from "picomatch";
import type { DataWindow, JsonObject } from "@xo-foundry/core";
import type { StreamOptions } from "./options.js";
import type { RemoteFile } from "./remote.js";

/**
 * The `modified: state` watermark: the newest file taken so far, by (mtime, path). SFTP
 * times have whole seconds, so the path breaks ties: a file written in the same second
 * as the last one taken, but sorting after it, is still taken next time.
 */
export interface Watermark {
  readonly mtime: number;
  readonly path: string;
}

export function watermarkOf(state: JsonObject | undefined): Watermark | undefined {
  if (!state || typeof state.mtime !== "number" || typeof state.path !== "string") return undefined;
  return { mtime: state.mtime, path: state.path };
}

const after = (f: RemoteFile, w: Watermark) => f.mtime > w.mtime || (f.mtime === w.mtime && f.path > w.path);

export interface Selection {
  readonly files: readonly RemoteFile[];
  /** The state to save once these files are loaded (`modified: state` only). */
  readonly state: Watermark | undefined;
}

export function selectFiles(
  listed: readonly RemoteFile[],
  stream: Pick<StreamOptions, "glob" | "modified" | "min_age_seconds">,
  window: DataWindow,
  saved: JsonObject | undefined,
  nowSeconds: number,
): Selection {
  const isMatch = picomatch(stream.glob, { dot: false });
  const start = Date.parse(window.start) / 1000;
  const end = Date.parse(window.end) / 1000;
  const watermark = watermarkOf(saved);
  const newest = nowSeconds - stream.min_age_seconds;
  const files = listed.filter((f) => {
    if (!isMatch(f.relative)) return false;
    if (stream.min_age_seconds > 0 && f.mtime > newest) return false;
    switch (stream.modified) {
      case "window":
        return f.mtime >= start && f.mtime < end;
      case "state":
        return watermark === undefined || after(f, watermark);
      case "all":
        return true;
    }
  });
  if (stream.modified !== "state") return { files, state: undefined };
  const last = files.reduce<Watermark | undefined>((w, f) => (w === undefined || after(f, w) ? { mtime: f.mtime, path: f.path } : w), watermark);
  return { files, state: last };
}

const SAFE = /^[A-Za-z0-9._-]+$/;

/**
 * Landed names for remote paths relative to the stream folder, in the same order:
 * sub-folders joined with `__`, other characters replaced by `_`, and a short hash of the
 * remote path when anything was replaced or two paths would meet on one name (`a b.csv`
 * and `a_b.csv`, `x/y.csv` and `x__y.csv`).
 */
export function landedNames(relatives: readonly string[], decompress: boolean): string[] {
  const plain = relatives.map((r) => (decompress ? r.replace(/\.gz$/i, "") : r).split("/").join("__"));
  const seen = new Map<string, number>();
  for (const name of plain) seen.set(name, (seen.get(name) ?? 0) + 1);
  return plain.map((name, i) => (SAFE.test(name) && !name.startsWith(".") && name.length <= 200 && seen.get(name) === 1 ? name : hashed(name, relatives[i]!)));
}

function hashed(name: string, relative: string): string {
  const hash = createHash("sha256").update(relative).digest("hex").slice(0, 8);
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  const safeExt = clean(ext).slice(0, 20);
  const safeStem = clean(stem).replace(/^\.+/, "").slice(0, 200 - safeExt.length - 10) || "file";
  return `${safeStem}-${hash}${safeExt}`;
}
