/**
 * What `api.send` meets in a run, on local disk: a landing zone (a folder, written through
 * temporaries and renames as the runtime's file landing does), an upstream task's published
 * partition (`_manifest.json` + `_SUCCESS`) and a state store in a JSON file, which outlives
 * a killed process the way the runtime's state in the landing zone does.
 */
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createHash, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { joinUri, MANIFEST_FILE, SUCCESS_MARKER, type FileFormat, type JsonObject, type LandingStore, type StateStore, type StreamState, type TaskSummary } from "@xo-foundry/core";
import { manifest, writeManifestFile } from "@xo-foundry/testkit";

export interface TestLanding {
  readonly root: string;
  readonly store: LandingStore;
}

async function writeAtomically(file: string, body: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, body);
  await rename(tmp, file);
}

export function folderLanding(dir: string): TestLanding {
  const local = (uri: string) => fileURLToPath(uri);
  const store: LandingStore = {
    async write(uri, body) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      const bytes = Buffer.concat(chunks);
      await writeAtomically(local(uri), bytes);
      return { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    },
    async *read(uri) {
      yield* createReadStream(local(uri));
    },
    readText: (uri) => readFile(local(uri), "utf8").catch(() => undefined),
    writeText: (uri, text) => writeAtomically(local(uri), text),
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
    deletePrefix: (prefix) => rm(local(prefix), { recursive: true, force: true }),
    localPath: async (uri) => local(uri),
  };
  return { root: pathToFileURL(dir).href, store };
}

export interface PublishedFile {
  readonly text: string;
  readonly format: FileFormat;
}

/** Publishes `files` as the stage partition of upstream task `task` and returns its summary, as an export leaves it. */
export async function publishPartition(landing: TestLanding, files: Readonly<Record<string, PublishedFile>>, task = "changed_orders"): Promise<TaskSummary> {
  const partition = joinUri(landing.root, "stage", "test_pipeline", "_steps", task, "incremental", "date=2026-01-15");
  const dir = fileURLToPath(partition);
  await rm(dir, { recursive: true, force: true });
  const landed = [];
  for (const [name, file] of Object.entries(files)) landed.push(await writeManifestFile(path.join(dir, name), file.text, file.format));
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest({ dir, files: landed, stream: task })));
  await writeFile(path.join(dir, SUCCESS_MARKER), "");
  return { task, step: "sql.export", state: "success", summary: { partition, files: landed.length }, reads: [], writes: [{ uri: partition }] };
}

export const ndjson = (records: readonly JsonObject[]): PublishedFile => ({ text: records.map((r) => `${JSON.stringify(r)}\n`).join(""), format: "ndjson" });

/** Orders `{ id, total }` with ids `from`..`from + count - 1`. */
export function orders(from: number, count: number): JsonObject[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, status: "paid", total: 10 + from + i }));
}

/** A state store in one JSON file, replaced atomically on every `set`. */
export function fileStateStore(file: string): StateStore {
  const load = async (): Promise<Record<string, StreamState>> => {
    const text = await readFile(file, "utf8").catch(() => undefined);
    return text === undefined ? {} : (JSON.parse(text) as Record<string, StreamState>);
  };
  return {
    get: async (key) => (await load())[key],
    async set(key, value: JsonObject, by) {
      const all = await load();
      all[key] = { value, savedAt: new Date().toISOString(), ...by };
      await writeAtomically(file, JSON.stringify(all));
    },
    async delete(key) {
      const all = await load();
      delete all[key];
      await writeAtomically(file, JSON.stringify(all));
    },
    list: async () => Object.keys(await load()).sort(),
  };
}
