/**
 * Publishing a stage partition: the marker goes first (down), files are replaced,
 * the manifest is written, and the marker goes last (up). A reader that sees the
 * marker sees a complete partition; a crash in between leaves no marker, and the
 * load refuses the partition instead of loading half of it.
 */
import { joinUri, MANIFEST_FILE, SUCCESS_MARKER, type LandingPaths, type LandingStore, type Manifest, type ManifestFile } from "@xo-foundry/core";
import { TEMPORARY } from "./file-landing.js";

export async function publishPartition(
  landing: LandingStore,
  paths: LandingPaths,
  ingested: readonly ManifestFile[],
  meta: Pick<Manifest, "pipeline" | "stream" | "strategy" | "logicalDate" | "runId" | "state">,
): Promise<Manifest> {
  await landing.deletePrefix(paths.marker);
  await landing.deletePrefix(paths.stage);
  const staged: ManifestFile[] = [];
  for (const file of ingested) {
    const name = file.uri.slice(file.uri.lastIndexOf("/") + 1);
    const uri = joinUri(paths.stage, name);
    if (landing.copy) {
      // Same store, same bytes: the ingest checksum stays valid.
      await landing.copy(file.uri, uri);
    } else {
      const written = await landing.write(uri, landing.read(file.uri));
      if (written.sha256 !== file.sha256) throw new Error(`checksum mismatch while staging ${name}`);
    }
    staged.push({ ...file, uri });
  }
  const manifest: Manifest = {
    version: 1,
    ...meta,
    partition: paths.stage,
    files: staged,
    rows: staged.reduce((n, f) => n + (f.rows ?? 0), 0),
    bytes: staged.reduce((n, f) => n + f.bytes, 0),
  };
  await landing.writeText(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  await landing.writeText(paths.marker, "");
  return manifest;
}

/** The manifest of a complete partition, or undefined when there is none (or it is incomplete). */
export async function readPartition(landing: LandingStore, paths: LandingPaths): Promise<Manifest | undefined> {
  if ((await landing.readText(paths.marker)) === undefined) return undefined;
  const text = await landing.readText(paths.manifest);
  return text === undefined ? undefined : (JSON.parse(text) as Manifest);
}

export { MANIFEST_FILE, SUCCESS_MARKER };

/**
 * Removes the temporaries that killed writers left in the partition's ingest folders,
 * of every run (the stage folder is replaced whole by the publish). Only a task that
 * holds the partition's lock may call this: then no other live run writes there.
 * Finished files of other runs stay, as the audit trail ADR 2 promises.
 */
export async function removeStaleTemporaries(landing: LandingStore, paths: LandingPaths): Promise<number> {
  const runs = paths.ingest.slice(0, paths.ingest.lastIndexOf("/"));
  const stale = (await landing.list(runs)).filter((o) => TEMPORARY.test(o.uri));
  for (const o of stale) await landing.deletePrefix(o.uri);
  return stale.length;
}
