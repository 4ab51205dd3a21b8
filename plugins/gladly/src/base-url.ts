/** Where requests go: `base_url`, else `https://<organization>.gladly.com`, else the connection's host. */
import type { Connection } from "@xo-foundry/core";

export function resolveBaseUrl(
  options: { base_url?: string | undefined; organization?: string | undefined },
  connection: Connection | undefined,
  connectionHint: string,
): URL {
  if (options.base_url) return new URL(options.base_url);
  if (options.organization) return new URL(`https://${options.organization}.gladly.com`);
  const host = connection?.host;
  if (!host) {
    throw new Error(`no Gladly URL: set \`organization\` (e.g. \`acme\` for acme.gladly.com) or \`base_url\` in the source block, or a host in ${connectionHint}`);
  }
  // Airflow HTTP connections hold either a full URL or a bare host name.
  // Airflow's http/https connection types carry the scheme; Gladly itself is always https.
  const scheme = connection?.type && /^https?$/i.test(connection.type) ? connection.type.toLowerCase() : "https";
  const withScheme = /^https?:\/\//i.test(host) ? host : `${scheme}://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`the host of ${connectionHint} is not a URL or host name; use e.g. https://acme.gladly.com`);
  }
  if (connection?.port && !url.port) url.port = String(connection.port);
  return url;
}
