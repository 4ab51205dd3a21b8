/**
 * Calls to the server. The token arrives once in the page's URL; it is kept for this tab
 * (sessionStorage), taken out of the address bar, and sent as `X-XO-Token` on every call.
 * Run events are read from a fetch body, not EventSource, because EventSource cannot
 * send a header.
 */
import type { Diagnostic } from "@xo-foundry/core";

const KEY = "xo-foundry-token";

function takeToken(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(KEY) ?? "";
}

const token = takeToken();

export interface Answer<T> {
  readonly ok: boolean;
  readonly status: number;
  readonly data: T;
}

export async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(path, {
    method,
    headers: { "X-XO-Token": token, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T;
  return { ok: res.ok, status: res.status, data };
}

/** The events of a Server-Sent Events stream, as they come. */
export async function* serverEvents(path: string): AsyncGenerator<{ event: string; data: unknown }> {
  const res = await fetch(path, { headers: { "X-XO-Token": token, Accept: "text/event-stream" } });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) as unknown };
    }
  }
}

/** What the server sends for one diagnostic: core's fields and the CLI's text. */
export type WireDiagnostic = Diagnostic & { readonly text: string };

export interface TaskGraph {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly { id: string; step: string; x: number; y: number; width: number; height: number }[];
  readonly edges: readonly { from: string; to: string; d: string }[];
}

export interface CheckResult {
  readonly path: string;
  readonly valid: boolean;
  readonly diagnostics: readonly WireDiagnostic[];
  readonly graph?: TaskGraph;
  readonly dag?: { fileName: string; dagId: string; target: string; content: string; exists: boolean; same: boolean; diff: string; conflict?: string };
  readonly error?: string;
}
