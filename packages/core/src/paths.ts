/**
 * The landing path builder. Raw extracts go under the ingest root, one folder per
 * run, and are never overwritten; the stage root holds one partition per stream
 * and date that a re-run replaces whole, so loads read each date exactly once.
 *
 *   <landing>/ingest/<pipeline>/<stream>/<strategy>/<partition>/run=<run id>/part-00000.ndjson
 *   <landing>/stage/<pipeline>/<stream>/<strategy>/<partition>/{part-00000.ndjson,_manifest.json,_SUCCESS}
 *
 * where <partition> is `snapshot_date=D` (full_refresh), `date=D` (incremental)
 * or `from=S_to=D` (historical).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { xoError, type ErrorProps } from "./errors.js";
import type { DataWindow } from "./plugin.js";
import type { LoadStrategy } from "./config/types.js";

export interface LandingPaths {
  /** Folder for this run's raw files. */
  readonly ingest: string;
  /** The stage partition folder the load reads. */
  readonly stage: string;
  readonly manifest: string;
  /** Written last: a partition without it is incomplete and never loaded. */
  readonly marker: string;
}

export interface PathInput {
  /** The resolved landing root URI (see resolveLandingUri). */
  readonly root: string;
  readonly pipeline: string;
  readonly stream: string;
  readonly strategy: LoadStrategy;
  readonly window: DataWindow;
  readonly runId: string;
}

export const MANIFEST_FILE = "_manifest.json";
export const SUCCESS_MARKER = "_SUCCESS";

export function landingPaths(input: PathInput): LandingPaths {
  const partition = partitionSegment(input.strategy, input.window);
  const tail = [input.pipeline, input.stream, input.strategy, partition];
  const stage = joinUri(input.root, "stage", ...tail);
  return {
    ingest: joinUri(input.root, "ingest", ...tail, `run=${safeRunId(input.runId)}`),
    stage,
    manifest: joinUri(stage, MANIFEST_FILE),
    marker: joinUri(stage, SUCCESS_MARKER),
  };
}

export function partitionSegment(strategy: LoadStrategy, window: DataWindow): string {
  switch (strategy) {
    case "full_refresh":
      return `snapshot_date=${window.logicalDate}`;
    case "incremental":
      return `date=${window.logicalDate}`;
    case "historical":
      return `from=${window.start.slice(0, 10)}_to=${window.logicalDate}`;
  }
}

/**
 * Run ids come from Airflow (`scheduled__2026-01-01T00:00:00+00:00`) or users; keep
 * them readable but path-safe, and add a short hash when characters were replaced
 * so two different ids never share a folder.
 */
export function safeRunId(runId: string): string {
  const cleaned = runId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120);
  if (cleaned === runId && cleaned !== "" && !/^\.+$/.test(cleaned)) return cleaned;
  return `${cleaned}-${createHash("sha256").update(runId).digest("hex").slice(0, 8)}`;
}

export function joinUri(base: string, ...segments: string[]): string {
  return [base.replace(/\/+$/, ""), ...segments].join("/");
}

/**
 * `file://relative/dir` resolves against the project; `file:///abs` and `s3://bucket/prefix`
 * stay as they are. Returns a normalized URI without a trailing slash.
 */
export function resolveLandingUri(uri: string, projectDir: string, knownSchemes: readonly string[] = ["s3"]): string {
  const problem = landingUriProblem(uri, knownSchemes);
  if (problem) throw xoError("XO_PATH_INVALID", problem);
  const [, scheme = "", rest = ""] = LANDING_URI.exec(uri)!;
  if (scheme.toLowerCase() === "file") return pathToFileURL(path.resolve(projectDir, decodeURIComponent(rest))).href.replace(/\/+$/, "");
  return `${scheme.toLowerCase()}://${rest.replace(/\/+$/, "")}`;
}

const LANDING_URI = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i;

/**
 * Why `uri` is not a landing zone of this installation (`file://` is built in,
 * `knownSchemes` come from plugins), or undefined when it is one. Validation reports
 * it at `landing.uri`; `resolveLandingUri` throws it.
 */
export function landingUriProblem(uri: string, knownSchemes: readonly string[]): ErrorProps["XO_PATH_INVALID"] | undefined {
  const schemes = ["file", ...knownSchemes.filter((s) => s !== "file")];
  const match = LANDING_URI.exec(uri);
  if (!match) return { value: uri, detail: "expected a URI such as file://landing or s3://bucket/prefix", schemes };
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (scheme === "file") {
    if (rest === "") return { value: uri, detail: "the path is empty", schemes };
    try {
      decodeURIComponent(rest);
    } catch {
      return { value: uri, detail: "the path has a `%` that starts no %XX escape", schemes };
    }
    return undefined;
  }
  if (!knownSchemes.includes(scheme)) return { value: uri, detail: `no installed plugin serves ${scheme}:// landing zones`, schemes };
  if (!/^[^/]+/.test(rest)) return { value: uri, detail: "the bucket is missing", schemes };
  return undefined;
}
