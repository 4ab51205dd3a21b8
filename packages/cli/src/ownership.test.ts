import { afterEach, describe, expect, it } from "vitest";
import { pyComment } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { belongsTo, GENERATED_MARKER, ownershipOf, ownershipOfFile, projectHeaderLine, projectName } from "./ownership.js";

let dir: TestDir;
afterEach(() => dir?.remove());

const header = (...lines: string[]) => `${lines.map(pyComment).join("\n")}\n"docstring"\n\nimport datetime\n`;

describe("projectName", () => {
  it("is the package.json name, else the directory's name", async () => {
    dir = await testdir({ "a/package.json": '{"name": "@acme/dags"}', "b/package.json": "{}", "c/package.json": "not json", "d/x.yaml": "" });
    expect(projectName(dir.path("a"))).toBe("@acme/dags");
    expect(projectName(dir.path("b"))).toBe("b");
    expect(projectName(dir.path("c"))).toBe("c");
    expect(projectName(dir.path("d"))).toBe("d");
  });
});

describe("ownershipOf", () => {
  it("reads the marker and the project line from the comments at the top", () => {
    const text = header(`${GENERATED_MARKER} from p.yaml`, "Regenerate ...", projectHeaderLine("@acme/dags"), "source: p.yaml");
    expect(ownershipOf(text)).toEqual({ kind: "project", project: "@acme/dags" });
    expect(ownershipOf(text.replace(/\n/g, "\r\n"))).toEqual({ kind: "project", project: "@acme/dags" });
    expect(ownershipOf(header(`${GENERATED_MARKER} from p.yaml`, "source: p.yaml"))).toEqual({ kind: "unnamed" });
  });

  it("does not take a user's file for ours, even when its code mentions the marker or a project", () => {
    expect(ownershipOf("")).toEqual({ kind: "user" });
    expect(ownershipOf("# my DAG\n# project: shop\nDAG = 1\n")).toEqual({ kind: "user" });
    expect(ownershipOf(`import x\n# ${GENERATED_MARKER}\n# project: shop\n`)).toEqual({ kind: "user" });
    expect(ownershipOf(`"""# ${GENERATED_MARKER}"""\n`)).toEqual({ kind: "user" });
  });

  it("matches a project name the comment escaper rewrote, and nothing else", () => {
    for (const name of ["shop", "@acme/dags", "Bücher Ünd Co", "two\nlines", "ends-in-space "]) {
      const ownership = ownershipOf(header(`${GENERATED_MARKER} from p.yaml`, projectHeaderLine(name)));
      expect(belongsTo(ownership, name)).toBe(true);
      expect(belongsTo(ownership, `${name}x`)).toBe(false);
    }
    expect(belongsTo(ownershipOf(header(`${GENERATED_MARKER} from p.yaml`, projectHeaderLine("shop"))), "shop2")).toBe(false);
    expect(belongsTo({ kind: "unnamed" }, "shop")).toBe(false);
    expect(belongsTo({ kind: "user" }, "shop")).toBe(false);
  });

  it("reads files by their first kilobytes", async () => {
    dir = await testdir({ "big.py": `${header(GENERATED_MARKER, projectHeaderLine("shop"))}${"x = 1\n".repeat(100_000)}` });
    expect(await ownershipOfFile(dir.path("big.py"))).toEqual({ kind: "project", project: "shop" });
  });
});
