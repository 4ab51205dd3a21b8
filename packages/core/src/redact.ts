/**
 * Secret masking in the spirit of Airflow's secrets masker: every secret value
 * that the process learns (connection passwords, tokens) is registered here and
 * replaced by `***` in anything we print, including error messages from libraries.
 *
 * A secret reaches output in many spellings: an API echoes it JSON-escaped, a URL
 * carries it percent-encoded, a Basic auth header base64-encodes it with the login,
 * and our own `--json` output escapes all of that once more. `registerSecret` derives
 * each of those spellings up front, and `redact` finds them all in one pass over the
 * text (an Aho-Corasick automaton), so masking stays linear in the length of the
 * text however many secrets there are.
 */

/**
 * Secrets shorter than this are not masked: masking `abc` would garble every message
 * that happens to contain those letters, and a secret that short is no protection
 * anyway. Airflow's masker draws the same line (`min_length_masked_secret`, 5).
 */
export const MIN_SECRET_LENGTH = 5;

const patterns = new Set<string>();
let automaton: Automaton | undefined;

export interface SecretOptions {
  /** The user name sent with the secret: registers the Basic auth form, base64 of `login:secret`. */
  readonly login?: string | undefined;
}

export function registerSecret(value: unknown, options: SecretOptions = {}): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  for (const spelling of spellings(value, options.login)) {
    if (spelling.length < MIN_SECRET_LENGTH || patterns.has(spelling)) continue;
    patterns.add(spelling);
    automaton = undefined;
  }
}

/** `text` with every spelling of every registered secret replaced by `***`; overlapping matches become one `***`. */
export function redact(text: string): string {
  if (patterns.size === 0) return text;
  automaton ??= new Automaton(patterns);
  return automaton.mask(text);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  patterns.clear();
  automaton = undefined;
}

// ---------------------------------------------------------------- spellings

/** The ways one layer of quoting writes a string: in JSON, in code, in URLs. */
const ESCAPES: readonly ((s: string) => string)[] = [
  json,
  (s) => json(s).replaceAll("/", "\\/"), // PHP's json_encode, some Java libraries
  (s) => asciiJson(s, "lower"), // Python's json.dumps
  (s) => asciiJson(s, "upper"),
  (s) => asciiJson(s, "lower").replaceAll("/", "\\/"),
  (s) => backslashed(s, /[\\']/g), // a single-quoted JS or Python literal
  (s) => backslashed(s, /[\\'"]/g),
  (s) => backslashed(s, /[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g), // shell and regex quoting: every ASCII punctuation
  encodeURIComponent,
  (s) => lowerHex(encodeURIComponent(s)),
  formEncode,
  (s) => lowerHex(formEncode(s)),
];

/**
 * Every spelling of `secret` we may print: the raw value; each escaping of it, and
 * each of those JSON-escaped once more (an escaped echo inside our own `--json`
 * output); base64 and base64url of the secret and of `login:secret`; and the part
 * of the base64 that encodes the secret when it sits inside a longer base64 blob.
 */
function spellings(secret: string, login: string | undefined): Set<string> {
  const out = new Set<string>([secret]);
  for (const escape of ESCAPES) {
    const once = escape(secret);
    out.add(once);
    out.add(json(once));
    out.add(json(once).replaceAll("/", "\\/"));
  }
  const bytes = Buffer.from(secret);
  for (const alphabet of ["base64", "base64url"] as const) {
    const whole = bytes.toString(alphabet);
    out.add(whole);
    out.add(whole.replace(/=+$/, ""));
    if (login !== undefined) out.add(Buffer.from(`${login}:${secret}`).toString(alphabet));
    for (let offset = 0; offset < 3; offset++) out.add(base64Core(bytes, offset, alphabet));
  }
  return out;
}

function json(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function asciiJson(s: string, hexCase: "lower" | "upper"): string {
  return json(s).replace(/[^\x00-\x7f]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, "0");
    return `\\u${hexCase === "upper" ? hex.toUpperCase() : hex}`;
  });
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0" };

function backslashed(s: string, special: RegExp): string {
  return s.replace(special, (c) => `\\${c}`).replace(/[\n\r\t\b\f\v\0]/g, (c) => CONTROL_ESCAPES[c]!);
}

/** application/x-www-form-urlencoded, as HTML forms and most query-string builders write it. */
function formEncode(s: string): string {
  return new URLSearchParams([["", s]]).toString().slice(1);
}

function lowerHex(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

/**
 * The base64 characters that depend only on `bytes` when they follow `offset` other
 * bytes (mod 3) in a longer blob: a token inside a base64-encoded JSON body or a
 * Basic auth header with an unknown login. The characters shared with the
 * neighbouring bytes are left out.
 */
function base64Core(bytes: Buffer, offset: number, alphabet: "base64" | "base64url"): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet).replace(/=+$/, "");
  const lead = [0, 2, 3][offset]!;
  const trailing = (offset + bytes.length) % 3 === 0 ? 0 : 1;
  return encoded.slice(lead, encoded.length - trailing);
}

// ---------------------------------------------------------------- matching

/**
 * Aho-Corasick over UTF-16 code units. `longest[state]` is the length of the longest
 * pattern that ends at that state (following failure links), so one scan finds, at
 * every position, the longest match ending there; their union is what gets masked.
 */
class Automaton {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  private readonly longest: number[] = [0];

  constructor(words: Iterable<string>) {
    for (const word of words) {
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const c = word.charCodeAt(i);
        let to = this.next[state]!.get(c);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.longest.push(0);
          this.next[state]!.set(c, to);
        }
        state = to;
      }
      this.longest[state] = word.length;
    }
    // Breadth first, so a state's failure target is final before its children need it.
    const queue = [...this.next[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [c, child] of this.next[state]!) {
        this.fail[child] = this.step(this.fail[state]!, c);
        this.longest[child] ||= this.longest[this.fail[child]!]!;
        queue.push(child);
      }
    }
  }

  /** The state after reading `c` in `state`, following failure links. */
  private step(state: number, c: number): number {
    for (;;) {
      const to = this.next[state]!.get(c);
      if (to !== undefined) return to;
      if (state === 0) return 0;
      state = this.fail[state]!;
    }
  }

  mask(text: string): string {
    // Matched ranges [start, end), merged as they come: ends only grow, so a new range
    // can only swallow ranges at the top of the stack.
    const ranges: [number, number][] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      state = this.step(state, text.charCodeAt(i));
      const length = this.longest[state]!;
      if (length === 0) continue;
      let start = i + 1 - length;
      while (ranges.length && ranges[ranges.length - 1]![1] > start) start = Math.min(start, ranges.pop()![0]);
      ranges.push([start, i + 1]);
    }
    if (ranges.length === 0) return text;
    let out = "";
    let from = 0;
    for (const [start, end] of ranges) {
      out += `${text.slice(from, start)}***`;
      from = end;
    }
    return out + text.slice(from);
  }
}
