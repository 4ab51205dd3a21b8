/**
 * @xo-foundry/language-server: the CLI's diagnostics, the project's schema and DAG
 * generation for any LSP editor. `xo-foundry-language-server --stdio` runs it.
 */
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { startServer } from "./server.js";

export { startServer, fileOf, CHECK_DELAY_MS } from "./server.js";
export { COMMANDS, type Command, type ValidateResult, type PreviewResult, type GenerateResult } from "./commands.js";
export { readSettings, DEFAULT_SETTINGS, SETTINGS_SECTION, type Settings } from "./settings.js";

/** Starts the server on the transport named on the command line (`--stdio`, `--node-ipc`, `--socket=<port>`). */
export function main(): void {
  startServer(createConnection(ProposedFeatures.all));
}
