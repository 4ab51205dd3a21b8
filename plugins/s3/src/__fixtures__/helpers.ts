/** Small helpers shared by the S3 tests. */
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";

/** `total` deterministic bytes in `chunk`-sized pieces; `pulled()` tells how far a consumer has read. */
export function generatedBody(total: number, chunk = 256 * 1024) {
  let pulled = 0;
  const piece = (offset: number, length: number) => {
    const buf = Buffer.alloc(length);
    for (let i = 0; i < length; i++) buf[i] = (offset + i) * 31 % 251;
    return buf;
  };
  const expected = createHash("sha256");
  for (let offset = 0; offset < total; offset += chunk) expected.update(piece(offset, Math.min(chunk, total - offset)));
  return {
    sha256: expected.digest("hex"),
    pulled: () => pulled,
    async *body(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < total; offset += chunk) {
        const part = piece(offset, Math.min(chunk, total - offset));
        pulled += part.length;
        yield part;
      }
    },
  };
}

export async function sha256Of(body: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

export async function* once(text: string | Uint8Array): AsyncGenerator<Uint8Array> {
  yield typeof text === "string" ? Buffer.from(text) : text;
}

/** Records the name of every command the client sends, and calls `onSend` as each one starts. */
export function recordCommands(client: S3Client, onSend?: (command: string) => void): string[] {
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? "");
      sent.push(name);
      onSend?.(name);
      return next(args);
    },
    { step: "initialize", name: "xoRecordCommands" },
  );
  return sent;
}

/** The whole body as one buffer (small test objects only; Node 20 has no Array.fromAsync). */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
