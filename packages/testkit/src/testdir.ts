import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface TestDir {
  readonly dir: string;
  /** Absolute path of a file or folder inside the tree. */
  path(...segments: string[]): string;
  write(relative: string, content: string): Promise<string>;
  remove(): Promise<void>;
}

/** A throwaway project tree: `{ "xo-foundry.yaml": "...", "pipelines/a.yaml": "..." }`. */
export async function testdir(files: Record<string, string> = {}): Promise<TestDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "xo-foundry-"));
  const api: TestDir = {
    dir,
    path: (...segments) => path.join(dir, ...segments),
    async write(relative, content) {
      const full = path.join(dir, relative);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
      return full;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  for (const [relative, content] of Object.entries(files)) await api.write(relative, content);
  return api;
}
