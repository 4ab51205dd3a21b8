/**
 * Turns the `auth` option and the connection into what goes on the wire. Secrets
 * only ever come from the connection; each one is registered with the redactor
 * before the first request so no log line or error can print it.
 */
import { connectionEnvVar, registerSecret, type Connection } from "@xo-foundry/core";
import type { AuthOptions } from "./options.js";

export interface RequestAuth {
  readonly headers: Readonly<Record<string, string>>;
  /** An API key sent in the query string: the http layer adds it and masks it in URLs it prints. */
  readonly queryParam?: { readonly name: string; readonly value: string };
}

/** "connection "x" (XO_CONN_X)", for hints that tell the user where to fix a credential. */
export function describeConnection(id: string | undefined): string {
  return id ? `connection ${JSON.stringify(id)} (${connectionEnvVar(id)})` : "the source's connection";
}

export function resolveAuth(auth: AuthOptions, connection: Connection | undefined, connectionId: string | undefined): RequestAuth {
  if (auth.type === "none") return { headers: {} };

  const where = describeConnection(connection?.id ?? connectionId);
  if (!connection) {
    throw new Error(`auth type "${auth.type}" needs a connection: set \`connection:\` in the source block and define its secret in ${where}`);
  }
  const secret = connection.password;
  if (!secret) {
    const what = auth.type === "basic" ? "a password" : auth.type === "bearer" ? "a token" : "an API key";
    throw new Error(`auth type "${auth.type}" needs ${what}: set the password of ${where}`);
  }
  // Every encoding of the secret is masked, including base64 of `login:secret` (Basic auth).
  registerSecret(secret, connection.login ? { login: connection.login } : {});

  switch (auth.type) {
    case "bearer":
      return { headers: { Authorization: `Bearer ${secret}` } };
    case "basic": {
      if (!connection.login) throw new Error(`auth type "basic" needs a user name: set the login of ${where}`);
      const encoded = Buffer.from(`${connection.login}:${secret}`).toString("base64");
      return { headers: { Authorization: `Basic ${encoded}` } };
    }
    case "api_key":
      return auth.query_param ? { headers: {}, queryParam: { name: auth.query_param, value: secret } } : { headers: { [auth.header]: secret } };
  }
}
