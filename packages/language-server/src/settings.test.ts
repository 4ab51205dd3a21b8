import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, readSettings } from "./settings.js";

describe("readSettings", () => {
  it("reads dagsFolder flat (initializationOptions) or under xoFoundry (configuration)", () => {
    expect(readSettings({ dagsFolder: "airflow/dags" })).toEqual({ dagsFolder: "airflow/dags" });
    expect(readSettings({ xoFoundry: { dagsFolder: "out" } })).toEqual({ dagsFolder: "out" });
  });

  it("keeps the fallback for what is missing or not a folder name", () => {
    expect(readSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ dagsFolder: "  " }, { dagsFolder: "x" })).toEqual({ dagsFolder: "x" });
    expect(readSettings({ dagsFolder: 3 })).toEqual({ dagsFolder: "dags" });
  });
});
