/**
 * The server in a real editor: Neovim's own LSP client (0.7: `vim.lsp.start_client` and
 * `vim.lsp.buf_attach_client`) opens a pipeline with an error, shows its diagnostic, and
 * gets the next one after an edit made in the buffer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { TestDir } from "@xo-foundry/testkit";
import { helpdeskProject, pipelineYaml, serverBin } from "./__fixtures__/project.js";

const nvim = spawnSync("nvim", ["--version"], { encoding: "utf8" });
const hasNvim = nvim.status === 0;
/** How long Neovim may take for the whole script before the test kills it. */
const NVIM_TIMEOUT_MS = 60_000;
/** How long the script waits for each diagnostic, inside Neovim. */
const WAIT_MS = 20_000;

interface NvimDiagnostic {
  readonly code: string;
  readonly message: string;
  readonly lnum: number;
  readonly col: number;
  readonly end_lnum: number;
  readonly end_col: number;
  readonly source: string;
}

interface NvimResult {
  readonly error?: string;
  readonly first?: NvimDiagnostic[];
  readonly second?: NvimDiagnostic[];
}

const lua = (s: string) => JSON.stringify(s);

/** The init script: start our server for the file, wait for diagnostics, edit, wait again, write JSON, quit. */
function initLua(options: { file: string; root: string; out: string; editLine: number; editText: string }): string {
  return `
local result = {}
local function collect(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out, { code = d.code, message = d.message, lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col, source = d.source })
  end
  return out
end
local function has_code(buf, code)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == code then return true end
  end
  return false
end
local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(${lua(options.file)}))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({
    name = "xo-foundry",
    cmd = { ${lua(process.execPath)}, ${lua(serverBin)}, "--stdio" },
    cmd_cwd = ${lua(options.root)},
    root_dir = ${lua(options.root)},
  })
  if not id then error("vim.lsp.start_client did not start the server") end
  vim.lsp.buf_attach_client(buf, id)
  if not vim.wait(${WAIT_MS}, function() return has_code(buf, "XO_CONFIG_UNKNOWN_KEY") end, 20) then
    error("no XO_CONFIG_UNKNOWN_KEY diagnostic within ${WAIT_MS / 1000} s; got " .. vim.fn.json_encode(collect(buf)))
  end
  result.first = collect(buf)
  vim.api.nvim_buf_set_lines(buf, ${options.editLine}, ${options.editLine + 1}, false, { ${lua(options.editText)} })
  if not vim.wait(${WAIT_MS}, function() return has_code(buf, "XO_CONFIG_INVALID_TYPE") end, 20) then
    error("no XO_CONFIG_INVALID_TYPE diagnostic after the edit within ${WAIT_MS / 1000} s; got " .. vim.fn.json_encode(collect(buf)))
  end
  result.second = collect(buf)
end)
if not ok then result.error = tostring(err) end
local f = io.open(${lua(options.out)}, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd("qall!")
`;
}

function runNvim(init: string, cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn("nvim", ["--headless", "--clean", "-u", init], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.on("data", () => {});
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`nvim did not finish within ${NVIM_TIMEOUT_MS / 1000} s (killed); stderr: ${stderr || "(empty)"}`));
    }, NVIM_TIMEOUT_MS);
    child.on("error", (e) => (clearTimeout(timer), reject(e)));
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stderr })));
  }).finally(() => {
    // Never leave an editor behind, whatever happened.
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }) as Promise<{ code: number | null; stderr: string }>;
}

let dir: TestDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

describe.skipIf(!hasNvim)(`Neovim ${hasNvim ? nvim.stdout.split("\n")[0] : "(not installed: skipped)"}`, () => {
  it("shows the server's diagnostics for a pipeline with an error, and new ones after an edit in the buffer", { timeout: NVIM_TIMEOUT_MS + 10_000 }, async () => {
    const text = pipelineYaml(3).replace("  start_date:", "  start_dat:");
    dir = await helpdeskProject({ "tickets.yaml": text });
    const lines = text.split("\n");
    const typoLine = lines.findIndex((l) => l.startsWith("  start_dat:"));
    const retriesLine = lines.indexOf("  retries: 3");
    const out = dir.path("result.json");
    const init = await dir.write("init.lua", initLua({ file: dir.path("shop/tickets.yaml"), root: dir.path("shop"), out, editLine: retriesLine, editText: "  retries: many" }));

    const run = await runNvim(init, dir.path("shop"));
    const result = JSON.parse(await readFile(out, "utf8").catch(() => `{"error": "nvim wrote no result (exit ${run.code}): ${run.stderr.replace(/"/g, "'")}"}`)) as NvimResult;
    expect(result.error).toBeUndefined();

    const typo = result.first!.find((d) => d.code === "XO_CONFIG_UNKNOWN_KEY");
    expect(typo).toEqual({
      code: "XO_CONFIG_UNKNOWN_KEY",
      message: 'pipeline.start_dat: unknown key "start_dat"\nhint: did you mean "start_date"?',
      lnum: typoLine,
      col: 2,
      end_lnum: typoLine,
      end_col: 11,
      source: "xo-foundry",
    });
    const retries = result.second!.find((d) => d.code === "XO_CONFIG_INVALID_TYPE");
    expect(retries).toMatchObject({ lnum: retriesLine, col: 11, end_lnum: retriesLine, end_col: 15, source: "xo-foundry" });
    expect(retries!.message).toMatch(/^pipeline\.retries: expected /);
    // The typo is still there after the edit.
    expect(result.second!.map((d) => d.code)).toContain("XO_CONFIG_UNKNOWN_KEY");
  });
});
