/**
 * A landing zone on local disk and an upstream extract's partition in it, as the runtime
 * leaves them for a step: `<root>/stage/.../date=D/{files, _manifest.json, _SUCCESS}` and
 * the extract's summary naming the partition (and a load's that read it). Only what the
 * steps read is served.
 */
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { joinUri, MANIFEST_FILE, SUCCESS_MARKER, type LandingStore, type TaskSummary } from "@xo-foundry/core";
import { manifest, writeManifestFile } from "@xo-foundry/testkit";

export interface TestLanding {
  readonly root: string;
  readonly store: LandingStore;
}

export function folderLanding(dir: string, overrides: Partial<LandingStore> = {}): TestLanding {
  const local = (uri: string) => fileURLToPath(uri);
  const store: LandingStore = {
    write: () => Promise.reject(new Error("not served by the test landing")),
    async *read(uri) {
      yield* createReadStream(local(uri));
    },
    async readText(uri) {
      return readFile(local(uri), "utf8").catch(() => undefined);
    },
    writeText: () => Promise.reject(new Error("not served by the test landing")),
    async list(prefix) {
      const out: { uri: string; bytes: number }[] = [];
      const walk = async (folder: string): Promise<void> => {
        for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
          const full = path.join(folder, entry.name);
          if (entry.isDirectory()) await walk(full);
          else out.push({ uri: pathToFileURL(full).href, bytes: (await stat(full)).size });
        }
      };
      await walk(local(prefix));
      return out.sort((a, b) => (a.uri < b.uri ? -1 : 1));
    },
    deletePrefix: () => Promise.reject(new Error("not served by the test landing")),
    localPath: async (uri) => local(uri),
    ...overrides,
  };
  return { root: pathToFileURL(dir).href, store };
}

/** What the source reported about a landed file (`remote_path`, `size`), by landed name. */
export type LandedMetadata = Readonly<Record<string, Readonly<Record<string, string | number>>>>;

/** Lands `files` as the partition of extract task `task` and returns its summary. */
export async function landPartition(landing: TestLanding, files: Record<string, string | Buffer>, task = "extract_orders", metadata: LandedMetadata = {}): Promise<TaskSummary> {
  const partition = joinUri(landing.root, "stage", "test_pipeline", "orders", "incremental", "date=2026-01-15");
  const dir = fileURLToPath(partition);
  await mkdir(dir, { recursive: true });
  const landed = [];
  for (const [name, body] of Object.entries(files)) {
    const file = await writeManifestFile(path.join(dir, name), body, "csv");
    landed.push(metadata[name] ? { ...file, metadata: metadata[name] } : file);
  }
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest({ dir, files: landed, stream: "orders" })));
  await writeFile(path.join(dir, SUCCESS_MARKER), "");
  return { task, step: "extract", state: "success", summary: { rows: 0, files: landed.length, bytes: 0, partition }, reads: [], writes: [{ uri: partition }] };
}

/** The summary of a load task that read the partition `extract` published, as the runtime writes it. */
export function loadOf(extract: TaskSummary, task = "load_orders"): TaskSummary {
  return { task, step: "load", state: "success", summary: { table: "orders", rowsLoaded: 0 }, reads: [{ uri: String(extract.summary.partition) }], writes: [{ uri: "xo-sink://main/orders" }] };
}
