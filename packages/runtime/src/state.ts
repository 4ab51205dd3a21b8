/**
 * Stream state (cursors, watermarks) lives in the landing zone next to the data it
 * describes: `<landing>/state/<pipeline>/<stream>.json`, one small JSON document
 * per stream, replaced whole by the store's atomic write (rename on disk, one PUT
 * on S3). The load step saves it only after its load succeeded.
 */
import { joinUri, xoError, type JsonObject, type LandingStore, type StateStore, type StreamState } from "@xo-foundry/core";

export function stateRoot(landingRoot: string, pipeline: string): string {
  return joinUri(landingRoot, "state", pipeline);
}

export function landingStateStore(store: LandingStore, landingRoot: string, pipeline: string): StateStore {
  const root = stateRoot(landingRoot, pipeline);
  const uri = (stream: string) => joinUri(root, `${stream}.json`);
  return {
    async get(stream) {
      const text = await store.readText(uri(stream));
      if (text === undefined) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw xoError("XO_STATE_INVALID", { stream, detail: `${uri(stream)} is not JSON (${(e as Error).message})` });
      }
      if (!isState(parsed)) throw xoError("XO_STATE_INVALID", { stream, detail: `${uri(stream)} is not a saved state` });
      return parsed;
    },
    async set(stream, value, by) {
      const state: StreamState = { value, savedAt: new Date().toISOString(), runId: by.runId, logicalDate: by.logicalDate };
      await store.writeText(uri(stream), `${JSON.stringify(state, null, 2)}\n`);
    },
    async delete(stream) {
      await store.deletePrefix(uri(stream));
    },
    async list() {
      const objects = await store.list(root);
      return objects
        .map((o) => o.uri.slice(root.length + 1))
        .filter((name) => /^[a-z][a-z0-9_]*\.json$/.test(name))
        .map((name) => name.slice(0, -".json".length))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
  };
}

function isState(v: unknown): v is StreamState {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.value === "object" && s.value !== null && !Array.isArray(s.value) && typeof s.savedAt === "string";
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
