/**
 * Secret masking in the spirit of Airflow's secrets masker: every secret value
 * that the process learns (connection passwords, tokens) is registered here and
 * replaced by `***` in anything we print, including error messages from libraries.
 */
const secrets = new Set<string>();

/** Values shorter than this are not masked: masking "a" would garble every message. */
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: unknown): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  // The same secret often shows up URL-encoded (in URIs) or base64-encoded (Basic auth).
  secrets.add(encodeURIComponent(value));
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join("***");
  }
  return out;
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}
