/**
 * `xo-foundry ui [dir]`: a local web page to write, check, preview, generate and run the
 * project's pipelines. It prints its URL, with the token that every API call needs, and
 * serves until interrupted.
 */
import { startUiServer } from "../ui/server.js";

export interface UiCommandOptions {
  readonly port?: string;
  readonly dags?: string;
}

export async function uiCommand(dir: string | undefined, options: UiCommandOptions): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port must be a port number (0 picks a free one), not ${JSON.stringify(options.port)}\n`);
    return 1;
  }
  let server;
  try {
    server = await startUiServer({ dir: dir ?? ".", port, ...(options.dags ? { dagsDir: options.dags } : {}) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EADDRINUSE" && code !== "EACCES") throw e;
    process.stderr.write(`error: cannot listen on 127.0.0.1:${port} (${code}); choose another --port, or 0 for a free one\n`);
    return 1;
  }
  process.stdout.write(`xo-foundry ui: ${server.projectDir}\n${server.url}\n(open the URL in a browser; Ctrl+C stops the server)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
