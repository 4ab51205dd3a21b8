import { describe, expect, it } from "vitest";
import { SERVER_COMMANDS, asResult, generateMessage, previewPlan, validateMessage, type ServerDiagnostic } from "./results.js";

const error = (message: string, line?: number): ServerDiagnostic => ({ code: "XO_CONFIG_UNKNOWN_KEY", severity: "error", message, ...(line ? { line } : {}) });
const warning = (message: string): ServerDiagnostic => ({ code: "XO_CONFIG_DEPRECATED", severity: "warning", message });
const show = (file: string) => file.replace("/w/shop/", "");

describe("validateMessage", () => {
  it("names the file and says it is valid", () => {
    expect(validateMessage("orders.yaml", { valid: true, diagnostics: [] })).toEqual({ level: "info", text: "xo-foundry: orders.yaml is valid." });
  });

  it("counts the warnings of a valid file", () => {
    expect(validateMessage("orders.yaml", { valid: true, diagnostics: [warning("a"), warning("b")] })).toEqual({
      level: "warning",
      text: "xo-foundry: orders.yaml is valid, with 2 warnings.",
    });
  });

  it("counts errors and warnings and quotes the first error with its line", () => {
    const message = validateMessage("orders.yaml", { valid: false, diagnostics: [warning("w"), error("unknown key `sourc`", 4), error("second")] });
    expect(message).toEqual({ level: "error", text: "xo-foundry: orders.yaml has 2 errors and 1 warning. First, line 4: unknown key `sourc`" });
  });
});

describe("generateMessage", () => {
  it("lists the files that changed", () => {
    const message = generateMessage("orders.yaml", { valid: true, diagnostics: [], files: [{ file: "/w/shop/dags/orders.py", change: "created" }] }, show);
    expect(message).toEqual({ level: "info", text: "xo-foundry: generated the DAG of orders.yaml: dags/orders.py (created)." });
  });

  it("says when nothing changed", () => {
    const message = generateMessage("orders.yaml", { valid: true, diagnostics: [], files: [{ file: "/w/shop/dags/orders.py", change: "unchanged" }] }, show);
    expect(message).toEqual({ level: "info", text: "xo-foundry: the DAG of orders.yaml is up to date: dags/orders.py." });
  });

  it("refuses with the number of errors when the pipeline is invalid", () => {
    const message = generateMessage("orders.yaml", { valid: false, diagnostics: [error("bad")], files: [] }, show);
    expect(message).toEqual({ level: "error", text: "xo-foundry: did not generate the DAG. orders.yaml has 1 error. First: bad" });
  });

  it("refuses when a valid pipeline's DAG file is not the project's", () => {
    const notOurs: ServerDiagnostic = { code: "XO_DAG_NOT_OURS", severity: "error", message: "dags/orders.py was not written by this project" };
    const message = generateMessage("orders.yaml", { valid: true, diagnostics: [notOurs], files: [] }, show);
    expect(message.level).toBe("error");
    expect(message.text).toContain("dags/orders.py was not written by this project");
  });
});

describe("previewPlan", () => {
  const dag = { valid: true, diagnostics: [], fileName: "orders.py", target: "/w/shop/dags/orders.py", content: "dag = 1\n" };

  it("opens the Python alone when there is no file on disk", () => {
    expect(previewPlan("orders.yaml", dag)).toEqual({ kind: "open", fileName: "orders.py", content: "dag = 1\n", target: "/w/shop/dags/orders.py", upToDate: false });
  });

  it("diffs against the file on disk when it differs", () => {
    expect(previewPlan("orders.yaml", { ...dag, onDisk: "dag = 0\n" })).toEqual({ kind: "diff", fileName: "orders.py", content: "dag = 1\n", target: "/w/shop/dags/orders.py" });
  });

  it("opens the Python alone when the file on disk already holds it", () => {
    expect(previewPlan("orders.yaml", { ...dag, onDisk: "dag = 1\n" })).toMatchObject({ kind: "open", upToDate: true });
  });

  it("refuses an invalid pipeline with its errors", () => {
    const plan = previewPlan("orders.yaml", { valid: false, diagnostics: [error("bad", 2)] });
    expect(plan).toEqual({ kind: "refused", message: { level: "error", text: "xo-foundry: cannot preview the DAG. orders.yaml has 1 error. First, line 2: bad" } });
  });
});

describe("asResult", () => {
  it("passes the contract's shape and rejects anything else, naming the command", () => {
    const ok = { valid: true, diagnostics: [], files: [] };
    expect(asResult(SERVER_COMMANDS.generateDag, ok)).toBe(ok);
    expect(() => asResult(SERVER_COMMANDS.generateDag, { valid: true, diagnostics: [] })).toThrow(/xo-foundry\.generateDag .*files/);
    expect(() => asResult(SERVER_COMMANDS.validate, null)).toThrow(/xo-foundry\.validate with null/);
    expect(() => asResult(SERVER_COMMANDS.validate, undefined)).toThrow(/with nothing/);
  });
});
