/**
 * The pipeline file an API call names, as an absolute path inside the project: relative,
 * no `..`, a `.yaml`/`.yml` name, and no symlink that leads out of the project. The UI
 * reads and writes only there.
 */
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";

export class PathRefused extends Error {}

export async function projectFile(root: string, relative: unknown): Promise<string> {
  if (typeof relative !== "string" || relative.trim() === "") throw new PathRefused("path is required");
  if (relative.includes("\0")) throw new PathRefused("path has a NUL character");
  if (path.isAbsolute(relative) || /^[a-zA-Z]:/.test(relative) || relative.startsWith("\\")) throw new PathRefused("path must be relative to the project");
  const parts = relative.split(/[\\/]+/);
  if (parts.some((p) => p === "..")) throw new PathRefused("path may not contain ..");
  if (parts.some((p) => p === "node_modules" || (p !== "." && p.startsWith(".")))) throw new PathRefused("path may not be in a hidden folder or node_modules");
  if (!/\.ya?ml$/i.test(relative)) throw new PathRefused("a pipeline file name ends in .yaml or .yml");
  const realRoot = await realpath(root);
  const file = path.resolve(realRoot, relative);
  if (!inside(realRoot, file)) throw new PathRefused("path is outside the project");
  // The folder must exist and really be inside: a symlinked folder can point anywhere.
  const parent = await realpath(path.dirname(file)).catch(() => undefined);
  if (parent === undefined) throw new PathRefused("the folder does not exist");
  if (!inside(realRoot, parent) && parent !== realRoot) throw new PathRefused("path is outside the project");
  const info = await lstat(file).catch(() => undefined);
  if (info?.isSymbolicLink()) throw new PathRefused("path is a symbolic link");
  if (info && !info.isFile()) throw new PathRefused("path is not a file");
  return path.join(parent, path.basename(file));
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}
