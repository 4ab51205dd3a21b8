import path from "node:path";
import { describe, expect, it } from "vitest";
import { INSTALL_COMMAND, findServer, looksLikePipeline, missingServerMessage, type ServerFs } from "./server.js";

/** A file system made of the given files (JSON values are package.json contents); folders are implied. */
function fakeFs(files: Record<string, unknown>): ServerFs {
  const dirs = new Set<string>();
  for (const file of Object.keys(files)) {
    for (let dir = path.dirname(file); !dirs.has(dir); dir = path.dirname(dir)) {
      dirs.add(dir);
      if (path.dirname(dir) === dir) break;
    }
  }
  return {
    exists: (file) => file in files || dirs.has(file),
    isDirectory: (file) => dirs.has(file),
    readJson: (file) => {
      if (!(file in files)) throw new Error(`ENOENT: ${file}`);
      const value = files[file];
      if (typeof value === "string") return JSON.parse(value);
      return value;
    },
  };
}

const serverPackage = (dir: string, bin: unknown = { "xo-foundry-language-server": "./bin/xo-foundry-language-server.js" }) => ({
  [path.join(dir, "node_modules/@xo-foundry/language-server/package.json")]: { name: "@xo-foundry/language-server", bin },
  [path.join(dir, "node_modules/@xo-foundry/language-server/bin/xo-foundry-language-server.js")]: "",
});

describe("findServer", () => {
  it("finds the project's server from the file's folder upwards", () => {
    const fs = fakeFs({ ...serverPackage("/w/shop"), "/w/shop/pipelines/orders.yaml": "" });
    expect(findServer({ fileDir: "/w/shop/pipelines/daily", workspaceFolder: "/w" }, fs)).toEqual({
      ok: true,
      server: { module: "/w/shop/node_modules/@xo-foundry/language-server/bin/xo-foundry-language-server.js", root: "/w/shop", from: "project" },
    });
  });

  it("takes the nearest install when projects nest", () => {
    const fs = fakeFs({ ...serverPackage("/w"), ...serverPackage("/w/sub") });
    const found = findServer({ fileDir: "/w/sub/pipelines" }, fs);
    expect(found.ok && found.server.root).toBe("/w/sub");
  });

  it("accepts a bin given as a single path", () => {
    const fs = fakeFs(serverPackage("/w", "./bin/xo-foundry-language-server.js"));
    const found = findServer({ fileDir: "/w" }, fs);
    expect(found.ok && found.server.module).toBe("/w/node_modules/@xo-foundry/language-server/bin/xo-foundry-language-server.js");
  });

  it("reports an install without the bin script as not installed, saying what is wrong", () => {
    const fs = fakeFs({ "/w/node_modules/@xo-foundry/language-server/package.json": { name: "@xo-foundry/language-server" } });
    const found = findServer({ fileDir: "/w/pipelines", settingPath: "/elsewhere/server.js" }, fs);
    expect(found).toEqual({ ok: false, reason: "not-installed", detail: expect.stringContaining('has no "xo-foundry-language-server" bin script') });
  });

  it("prefers the project's server to the setting", () => {
    const fs = fakeFs({ ...serverPackage("/w"), ...serverPackage("/tools") });
    const found = findServer({ fileDir: "/w/p", workspaceFolder: "/w", settingPath: "/tools/node_modules/@xo-foundry/language-server" }, fs);
    expect(found.ok && found.server.from).toBe("project");
  });

  it("falls back to the setting: a package folder relative to the workspace folder", () => {
    const fs = fakeFs(serverPackage("/w/tools"));
    const found = findServer({ fileDir: "/w/p", workspaceFolder: "/w", settingPath: "tools/node_modules/@xo-foundry/language-server" }, fs);
    expect(found).toEqual({
      ok: true,
      server: { module: "/w/tools/node_modules/@xo-foundry/language-server/bin/xo-foundry-language-server.js", root: "/w", from: "setting" },
    });
  });

  it("falls back to the setting: a script", () => {
    const fs = fakeFs({ "/opt/ls/server.js": "" });
    const found = findServer({ fileDir: "/w/p", workspaceFolder: "/w", settingPath: "/opt/ls/server.js" }, fs);
    expect(found.ok && found.server.module).toBe("/opt/ls/server.js");
  });

  it("says when the setting names nothing usable", () => {
    const found = findServer({ fileDir: "/w/p", workspaceFolder: "/w", settingPath: "missing/server.js" }, fakeFs({}));
    expect(found).toEqual({ ok: false, reason: "bad-setting", detail: expect.stringContaining("/w/missing/server.js") });
    if (!found.ok) expect(missingServerMessage(found)).toContain('xoFoundry.server.path is "missing/server.js"');
  });

  it("finds nothing without an install or a setting, and the message says what to install", () => {
    const found = findServer({ fileDir: "/w/p", workspaceFolder: "/w", settingPath: "  " }, fakeFs({ "/w/p/a.yaml": "" }));
    expect(found).toEqual({ ok: false, reason: "not-installed" });
    if (!found.ok) expect(missingServerMessage(found)).toContain(`\`${INSTALL_COMMAND}\``);
    expect(INSTALL_COMMAND).toBe("npm install -D @xo-foundry/language-server");
  });
});

describe("looksLikePipeline", () => {
  it("is true for a top-level pipeline key only", () => {
    expect(looksLikePipeline("# shop\npipeline:\n  name: shop\n")).toBe(true);
    expect(looksLikePipeline('"pipeline": { name: shop }')).toBe(true);
    expect(looksLikePipeline("apiVersion: v1\nkind: Pod\nspec:\n  pipeline: x\n")).toBe(false);
    expect(looksLikePipeline("pipelines:\n  - a\n")).toBe(false);
  });
});
