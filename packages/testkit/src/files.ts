/** Landed files and manifests for sink tests: what the extract step would hand a load. */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { FileFormat, JsonObject, LoadStrategy, Manifest, ManifestFile } from "@xo-foundry/core";

/** Writes `body` to `file` and describes it as the manifest would (file URI, bytes, sha256). */
export async function writeManifestFile(file: string, body: string | Uint8Array, format: FileFormat, rows?: number): Promise<ManifestFile> {
  await mkdir(path.dirname(file), { recursive: true });
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  await writeFile(file, bytes);
  return {
    uri: pathToFileURL(file).href,
    format,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    ...(rows === undefined ? {} : { rows }),
  };
}

/** Records as NDJSON, one JSON object per line, the way the runtime lands record pages. */
export function ndjsonText(records: readonly JsonObject[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join("");
}

export interface ManifestInput {
  /** The folder the files go into (the stage partition); created when missing. */
  readonly dir: string;
  readonly records: readonly JsonObject[];
  /** How many part files to spread the records over (at least one, even for no records). */
  readonly files?: number;
  readonly pipeline?: string;
  readonly stream?: string;
  readonly strategy?: LoadStrategy;
  readonly logicalDate?: string;
  readonly runId?: string;
  readonly state?: JsonObject;
}

/** Writes the records as NDJSON part files and returns the Manifest a load gets. */
export async function writeNdjsonManifest(input: ManifestInput): Promise<Manifest> {
  const parts = Math.max(1, input.files ?? 1);
  const per = Math.ceil(input.records.length / parts);
  const files: ManifestFile[] = [];
  for (let i = 0; i < parts; i++) {
    const slice = input.records.slice(i * per, (i + 1) * per);
    files.push(await writeManifestFile(path.join(input.dir, `part-${String(i).padStart(5, "0")}.ndjson`), ndjsonText(slice), "ndjson", slice.length));
  }
  return manifest({ ...input, files });
}

/** A Manifest around files already written (e.g. a corrupt one made with `writeManifestFile`). */
export function manifest(input: Omit<ManifestInput, "records" | "files"> & { readonly files: readonly ManifestFile[] }): Manifest {
  const strategy = input.strategy ?? "incremental";
  const logicalDate = input.logicalDate ?? "2026-01-15";
  return {
    version: 1,
    pipeline: input.pipeline ?? "test_pipeline",
    stream: input.stream ?? "items",
    strategy,
    logicalDate,
    runId: input.runId ?? `test__${logicalDate}`,
    partition: pathToFileURL(input.dir).href,
    files: input.files,
    rows: input.files.reduce((n, f) => n + (f.rows ?? 0), 0),
    bytes: input.files.reduce((n, f) => n + f.bytes, 0),
    ...(input.state !== undefined ? { state: input.state } : {}),
  };
}
