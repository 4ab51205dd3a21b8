/**
 * What the plugin's tests share: a real OAuth 2 token endpoint (the testkit's) and the Gmail
 * emulator checking its tokens, connections of both kinds Google issues, an ExtractContext
 * built by hand (the runtime is not involved), and a drain that reads every batch as the
 * runtime would.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { clearOAuth2Cache, type Connection, type ExtractBatch, type ExtractContext, type JsonObject, type LoadStrategy, type Logger } from "@xo-foundry/core";
import { extractContext, startOAuthServer, type OAuthServer } from "@xo-foundry/testkit";
import { gmailSource } from "../source.js";
import type { SourceOptions, StreamOptions } from "../options.js";
import { startGmailEmulator, type GmailEmulator, type MailboxSpec, type Mailbox } from "./gmail_server.js";

export const MAILBOX = "reports@example.com";
export const SERVICE_ACCOUNT = "etl@xo-test.iam.gserviceaccount.com";
/** The connection id every test uses; errors must name it. */
export const CONNECTION_ID = "ops_mailbox";

export interface Servers {
  readonly oauth: OAuthServer;
  readonly gmail: GmailEmulator;
}

/** Starts both servers for the test file and resets them (and core's token cache) before each test. */
export function useServers(): Servers {
  const servers = {} as { oauth: OAuthServer; gmail: GmailEmulator };
  beforeAll(async () => {
    servers.oauth = await startOAuthServer();
    servers.gmail = await startGmailEmulator({ oauth: servers.oauth });
  });
  afterAll(async () => {
    await servers.gmail?.close();
    await servers.oauth?.stop();
  });
  beforeEach(() => {
    servers.gmail.reset();
    clearOAuth2Cache();
  });
  return servers;
}

/** A mailbox readable with an OAuth client's refresh token, and the connection holding them. */
export function mailboxWithClient(servers: Servers, spec: Omit<MailboxSpec, "email" | "clients"> & { email?: string }): { mailbox: Mailbox; connection: Connection; refreshToken: string } {
  const client = servers.oauth.client({ refreshToken: true });
  const mailbox = servers.gmail.mailbox({ email: MAILBOX, ...spec, clients: [client.clientId] });
  return {
    mailbox,
    refreshToken: client.refreshToken!,
    connection: { id: CONNECTION_ID, login: client.clientId, password: client.clientSecret, extra: { refresh_token: client.refreshToken! } },
  };
}

/** A connection holding a service-account key whose assertions the token endpoint verifies. */
export function serviceAccountConnection(servers: Servers): Connection {
  const { keyJson } = servers.oauth.serviceAccount({ email: SERVICE_ACCOUNT });
  return { id: CONNECTION_ID, extra: { keyfile_dict: JSON.stringify(keyJson) } };
}

/** Source options pointing at the emulator, with quick retries. */
export function sourceBlock(servers: Servers, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { root_url: servers.gmail.url, token_url: servers.oauth.tokenUrl, backoff_ms: 1, ...extra };
}

export interface ContextInput {
  readonly source: Record<string, unknown>;
  readonly stream: Record<string, unknown>;
  readonly connection: Connection;
  readonly state?: JsonObject;
  /** Default 2026-01-15: the window is that day in `timezone`. */
  readonly logicalDate?: string;
  readonly timezone?: string;
  readonly strategy?: LoadStrategy;
  readonly log?: Logger;
  readonly signal?: AbortSignal;
}

export function makeContext(input: ContextInput): ExtractContext<SourceOptions, StreamOptions> {
  const ctx = extractContext({
    plugin: "gmail",
    // Raw options on purpose: the source must apply its own defaults.
    options: input.source,
    streamOptions: input.stream,
    stream: { name: "gmail_stream" },
    connection: input.connection,
    ...(input.state ? { state: input.state } : {}),
    ...(input.logicalDate ? { logicalDate: input.logicalDate } : {}),
    ...(input.timezone ? { timezone: input.timezone } : {}),
    ...(input.strategy ? { strategy: input.strategy } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { ...ctx, ...(input.log ? { log: input.log } : {}) } as unknown as ExtractContext<SourceOptions, StreamOptions>;
}

export interface LandedFile {
  readonly name: string;
  readonly format: string;
  readonly metadata: Readonly<Record<string, string | number>> | undefined;
  readonly bytes: Buffer;
}

export interface Drained {
  readonly records: Record<string, unknown>[];
  /** How many records each `records` batch held, in order. */
  readonly pages: number[];
  readonly files: LandedFile[];
  readonly states: JsonObject[];
  /** Batch types in order, to check that state comes last. */
  readonly order: ExtractBatch["type"][];
}

/** Runs the extract to the end, reading each file body before asking for the next batch (as the runtime does). */
export async function drain(ctx: ExtractContext<SourceOptions, StreamOptions>): Promise<Drained> {
  const out: Drained = { records: [], pages: [], files: [], states: [], order: [] };
  for await (const batch of gmailSource.extract(ctx)) {
    out.order.push(batch.type);
    if (batch.type === "records") {
      out.records.push(...batch.records);
      out.pages.push(batch.records.length);
    } else if (batch.type === "file") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of batch.body) chunks.push(chunk);
      out.files.push({ name: batch.name, format: batch.format, metadata: batch.metadata, bytes: Buffer.concat(chunks) });
    } else {
      out.states.push(batch.state);
    }
  }
  return out;
}

/** Epoch ms of an ISO instant, for readable mailbox definitions. */
export const at = (iso: string): number => Date.parse(iso);

export { recordingLogger, rejectionOf, type RecordingLogger } from "@xo-foundry/testkit";
