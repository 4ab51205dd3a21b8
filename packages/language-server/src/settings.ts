/**
 * The server's one setting, `dagsFolder` (relative to the project; `dags` when unset),
 * from `initializationOptions` or the client's `xoFoundry` configuration section.
 */
import { DEFAULT_DAGS_FOLDER } from "@xo-foundry/cli/workspace";

export const SETTINGS_SECTION = "xoFoundry";

export interface Settings {
  readonly dagsFolder: string;
}

export const DEFAULT_SETTINGS: Settings = { dagsFolder: DEFAULT_DAGS_FOLDER };

/** Reads settings from what a client sent: `{ dagsFolder }` or `{ xoFoundry: { dagsFolder } }`; anything else keeps the defaults. */
export function readSettings(value: unknown, fallback: Settings = DEFAULT_SETTINGS): Settings {
  if (!value || typeof value !== "object") return fallback;
  const v = value as Record<string, unknown>;
  const section = v[SETTINGS_SECTION];
  const own = section && typeof section === "object" ? (section as Record<string, unknown>) : v;
  const dagsFolder = typeof own.dagsFolder === "string" && own.dagsFolder.trim() !== "" ? own.dagsFolder : fallback.dagsFolder;
  return { dagsFolder };
}
