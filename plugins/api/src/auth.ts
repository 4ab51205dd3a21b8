/**
 * Turns the `auth` option and the connection into what goes on the wire. Secrets
 * only ever come from the connection; each one is registered with the redactor
 * before the first request so no log line or error can print it.
 */
import { describeConnection, oauth2TokenSource, registerSecret, type AccessTokenSource, type Connection, type Logger, type OAuth2Grant } from "@xo-foundry/core";
import type { AuthOptions } from "./options.js";

export interface RequestAuth {
  readonly headers: Readonly<Record<string, string>>;
  /** An API key sent in the query string: the http layer adds it and masks it in URLs it prints. */
  readonly queryParam?: { readonly name: string; readonly value: string };
  /** OAuth 2: a bearer token asked for before each request (cached, renewed before it expires). */
  readonly tokens?: AccessTokenSource;
}

/** `block` names where `connection:` goes, in the words of the block that asks: "the source block", "the step". */
export function resolveAuth(auth: AuthOptions, connection: Connection | undefined, connectionId: string | undefined, log: Logger, block = "the source block"): RequestAuth {
  if (auth.type === "none") return { headers: {} };

  const where = describeConnection(connection?.id ?? connectionId);
  if (!connection) {
    throw new Error(`auth type "${auth.type}" needs a connection: set \`connection:\` in ${block} and define its secret in ${where}`);
  }
  if (auth.type === "oauth2_client_credentials" || auth.type === "oauth2_refresh_token") {
    return { headers: {}, tokens: oauth2TokenSource(oauth2Grant(auth, connection, where), { connection: connection.id, log }) };
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

type OAuth2Options = Extract<AuthOptions, { type: "oauth2_client_credentials" | "oauth2_refresh_token" }>;

function oauth2Grant(auth: OAuth2Options, connection: Connection, where: string): OAuth2Grant {
  if (!connection.login) throw new Error(`auth type "${auth.type}" needs the OAuth client id: set the login of ${where}`);
  const common = { tokenUrl: auth.token_url, clientId: connection.login, clientAuth: auth.client_auth, ...(auth.scopes.length ? { scopes: auth.scopes } : {}) };
  if (auth.type === "oauth2_client_credentials") {
    if (!connection.password) throw new Error(`auth type "oauth2_client_credentials" needs the client secret: set the password of ${where}`);
    return { type: "client_credentials", ...common, clientSecret: connection.password, ...(auth.audience !== undefined ? { audience: auth.audience } : {}) };
  }
  const refreshToken = connection.extra.refresh_token;
  if (typeof refreshToken !== "string" || refreshToken === "") {
    throw new Error(`auth type "oauth2_refresh_token" needs a refresh token: set extra.refresh_token of ${where}`);
  }
  return { type: "refresh_token", ...common, refreshToken, ...(connection.password ? { clientSecret: connection.password } : {}) };
}
