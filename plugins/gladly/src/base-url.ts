/** Where requests go: `base_url`, else `https://<organization>.gladly.com`, else the connection's host. */
import { connectionBaseUrl, type Connection } from "@xo-foundry/core";

export function resolveBaseUrl(
  options: { base_url?: string | undefined; organization?: string | undefined },
  connection: Connection | undefined,
  connectionHint: string,
): URL {
  if (options.base_url) return new URL(options.base_url);
  if (options.organization) return new URL(`https://${options.organization}.gladly.com`);
  const url = connection && connectionBaseUrl(connection);
  if (!url) {
    throw new Error(`no Gladly URL: set \`organization\` (e.g. \`acme\` for acme.gladly.com) or \`base_url\` in the source block, or a host in ${connectionHint}`);
  }
  return url;
}
