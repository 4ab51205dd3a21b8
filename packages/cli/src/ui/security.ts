/**
 * What keeps `xo-foundry ui` the user's own: it listens on 127.0.0.1 only, and every API
 * call must carry the per-start token (header `X-XO-Token`; the page reads it once from
 * its URL), come from the page's own origin (no other site's page can call it from the
 * user's browser), and name our host (a rebinding DNS name pointing at 127.0.0.1 is
 * refused). A token in a header, not a cookie: a browser never sends it on its own.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const TOKEN_HEADER = "x-xo-token";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The hosts the page may be opened at; anything else is a rebinding attempt or a mistake. */
export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Why a request may not go on, or undefined when it may. `api` requests need the token;
 * static assets (the app itself, no data) need only the host check.
 */
export function refusal(req: IncomingMessage, options: { port: number; token: string; api: boolean }): string | undefined {
  const hosts = allowedHosts(options.port);
  const host = req.headers.host ?? "";
  if (!hosts.includes(host)) return "unexpected Host header";
  const origin = req.headers.origin;
  // Browsers send Origin on every POST and on cross-origin GETs; our own page's is our own.
  if (origin !== undefined && origin !== `http://${host}`) return "request from another origin";
  if (req.headers["sec-fetch-site"] === "cross-site") return "request from another site";
  if (!options.api) return undefined;
  const given = req.headers[TOKEN_HEADER];
  if (typeof given !== "string" || !sameSecret(given, options.token)) return "missing or wrong token";
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Sent with every answer. The app is one script and one stylesheet from this server;
 * CodeMirror writes its own styles into <style> elements, which the page's nonce (new
 * for each load of the page, given to CodeMirror's `cspNonce`) admits. No inline script.
 */
export function securityHeaders(styleNonce?: string): Record<string, string> {
  const style = styleNonce ? `'self' 'nonce-${styleNonce}'` : "'self'";
  return {
    "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src ${style}; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}

export function styleNonce(): string {
  return randomBytes(16).toString("base64");
}
