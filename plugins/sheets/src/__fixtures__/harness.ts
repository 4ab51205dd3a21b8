/**
 * The world the tests run in: the testkit's OAuth 2 token endpoint, the Sheets API emulator
 * that checks its tokens, connections for a service account and for an OAuth client, and a
 * drain that runs the source the way the runtime does (reading each file body before asking
 * for the next batch).
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { clearOAuth2Cache, type Connection, type ExtractBatch, type Logger } from "@xo-foundry/core";
import { extractContext, recordingLogger, startOAuthServer, type OAuthClient, type OAuthServer, type RecordingLogger } from "@xo-foundry/testkit";
import { sheetsSource } from "../source.js";
import { startSheetsEmulator, type SheetsEmulator } from "./sheets_server.js";

export const SPREADSHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xyz";
export const SERVICE_ACCOUNT = "etl@xo-foundry-test.iam.gserviceaccount.com";

export interface World {
  readonly oauth: OAuthServer;
  readonly sheets: SheetsEmulator;
  /** A service-account key file the token endpoint accepts. */
  readonly keyJson: object;
  /** An OAuth client with a refresh token. */
  readonly client: OAuthClient;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const oauth = await startOAuthServer();
  const sheets = await startSheetsEmulator(oauth);
  const { keyJson } = oauth.serviceAccount({ email: SERVICE_ACCOUNT });
  const client = oauth.client({ refreshToken: true });
  return {
    oauth,
    sheets,
    keyJson,
    client,
    async stop() {
      await sheets.close();
      await oauth.stop();
    },
  };
}

/** One world for the test file, with the emulator emptied and core's token cache cleared before each test. */
export function useWorld(): World {
  const world = {} as { -readonly [K in keyof World]: World[K] };
  beforeAll(async () => {
    Object.assign(world, await startWorld());
  });
  afterAll(() => world.stop?.());
  beforeEach(() => {
    world.sheets.reset();
    freshTokens();
  });
  return world;
}

/** A Google connection holding the key file, as Airflow's Google provider stores it (`keyfile_dict`, a JSON string). */
export function serviceAccountConnection(world: World, id = "finance_google"): Connection {
  return { id, extra: { keyfile_dict: JSON.stringify(world.keyJson) } };
}

/** A Google connection holding an OAuth client and the refresh token a user granted it. */
export function oauthClientConnection(world: World, id = "finance_user"): Connection {
  return { id, login: world.client.clientId, password: world.client.clientSecret, extra: { refresh_token: world.client.refreshToken } };
}

/** Source options pointing at the emulator, with retries fast enough for tests. */
export function sourceOptions(world: World, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { spreadsheet_id: SPREADSHEET_ID, root_url: world.sheets.url, backoff_ms: 1, ...more };
}

export interface LandedFile {
  readonly name: string;
  readonly rows: number | undefined;
  readonly metadata: Readonly<Record<string, string | number>> | undefined;
  readonly records: Record<string, unknown>[];
}

export interface Extracted {
  /** Records of `records` batches, in order. */
  readonly records: Record<string, unknown>[];
  /** How many records each `records` batch held. */
  readonly batchSizes: number[];
  readonly files: LandedFile[];
  readonly log: RecordingLogger;
}

export interface ExtractInput {
  readonly options: Record<string, unknown>;
  readonly stream: Record<string, unknown>;
  readonly connection: Connection;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

/** Runs the source to its end, as the runtime would, and keeps what it yielded. */
export async function extract(input: ExtractInput): Promise<Extracted> {
  const log = recordingLogger();
  const ctx = {
    ...extractContext({
      options: input.options,
      streamOptions: input.stream,
      connection: input.connection,
      plugin: "sheets",
      strategy: "full_refresh",
      ...(input.signal ? { signal: input.signal } : {}),
    }),
    log: input.log ?? log,
  };
  const out: Extracted = { records: [], batchSizes: [], files: [], log };
  for await (const batch of sheetsSource.extract(ctx as never) as AsyncIterable<ExtractBatch>) {
    if (batch.type === "records") {
      out.records.push(...(batch.records as Record<string, unknown>[]));
      out.batchSizes.push(batch.records.length);
    } else if (batch.type === "file") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of batch.body) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString("utf8");
      out.files.push({
        name: batch.name,
        rows: batch.rows,
        metadata: batch.metadata,
        records: text
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      });
    }
  }
  return out;
}

/** Each test starts without cached access tokens, so request counts do not depend on the order tests run in. */
export function freshTokens(): void {
  clearOAuth2Cache();
}
