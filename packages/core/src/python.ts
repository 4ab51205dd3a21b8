/**
 * The one vetted way values reach generated Python. Templates never paste a config
 * value into code: strings, numbers and containers go through `pyLiteral`, names
 * through `pyIdentifier`/`uniqueIdentifiers`, free text in comments through `pyComment`.
 * Everything emitted here is pure ASCII, so the generated file has no encoding
 * questions and no invisible characters (bidi overrides, line separators) to hide in.
 */

export interface PyLiteralOptions {
  /**
   * Spaces per nesting level. When set, every non-empty list and dict is written one
   * item per line with a trailing comma, the way black formats long literals.
   */
  readonly indent?: number;
  /** Nesting level of the line the literal starts on, so continuation lines align with it. */
  readonly level?: number;
}

/** Orders strings by Unicode code point, as Python's `sorted()` does (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    // Equal code points span the same number of units, so `i` stays aligned in both.
    i += x > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * A Python literal that `ast.literal_eval` turns back into exactly `value`.
 * Accepts strings, finite numbers, bigints, booleans, null/undefined (None), arrays
 * (lists) and plain objects (dicts, keys in code-point order). Anything else throws,
 * because guessing a representation is how generated code goes wrong quietly.
 */
export function pyLiteral(value: unknown, options: PyLiteralOptions = {}): string {
  const indent = options.indent;
  if (indent !== undefined && (!Number.isInteger(indent) || indent < 0)) {
    throw new RangeError(`pyLiteral: indent must be a non-negative integer, got ${String(indent)}`);
  }
  return literal(value, indent, options.level ?? 0, []);
}

function literal(value: unknown, indent: number | undefined, level: number, path: readonly object[]): string {
  switch (typeof value) {
    case "string":
      return pyString(value);
    case "number":
      return pyNumber(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "True" : "False";
    case "undefined":
      return "None";
    case "object": {
      if (value === null) return "None";
      if (path.includes(value)) throw new TypeError("pyLiteral: cannot serialize a cyclic structure");
      const inner = [...path, value];
      if (Array.isArray(value)) {
        const items = value.map((item: unknown) => literal(item, indent, level + 1, inner));
        return container("[", "]", items, indent, level);
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
        throw new TypeError(`pyLiteral: cannot serialize an instance of ${name}; pass plain data`);
      }
      const record = value as Record<string, unknown>;
      const items = Object.keys(record)
        .sort(compareCodePoints)
        .map((key) => `${pyString(key)}: ${literal(record[key], indent, level + 1, inner)}`);
      return container("{", "}", items, indent, level);
    }
    default:
      throw new TypeError(`pyLiteral: cannot serialize a ${typeof value}`);
  }
}

function container(open: string, close: string, items: readonly string[], indent: number | undefined, level: number): string {
  if (items.length === 0) return open + close;
  if (indent === undefined) return open + items.join(", ") + close;
  const pad = " ".repeat(indent * (level + 1));
  return `${open}\n${items.map((item) => `${pad}${item},\n`).join("")}${" ".repeat(indent * level)}${close}`;
}

/**
 * Integers become Python ints (exact, even beyond 2^53); other numbers become the
 * float Python's own `repr` would print. NaN and the infinities have no literal, and
 * -0 is refused because JS cannot say whether it meant the int 0 or the float -0.0.
 */
function pyNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`pyLiteral: ${String(n)} has no Python literal`);
  if (Object.is(n, -0)) throw new RangeError("pyLiteral: -0 is ambiguous (int 0 or float -0.0); pass 0");
  if (Number.isInteger(n)) return BigInt(n).toString();
  return pyFloatRepr(n);
}

function pyFloatRepr(n: number): string {
  // toExponential() without an argument yields the shortest round-tripping digits,
  // the same digits Python's repr chooses; only the layout rules differ.
  const [mantissa = "", exponentText = "0"] = n.toExponential().split("e");
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  const exponent = Number(exponentText);
  // Python's float_repr_style "short": scientific when decpt <= -4 or decpt > 16.
  const decpt = exponent + 1;
  if (decpt <= -4 || decpt > 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const expSign = exponent < 0 ? "-" : "+";
    return `${sign}${digits[0]}${fraction}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (decpt <= 0) return `${sign}0.${"0".repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${"0".repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };

/**
 * A quoted Python string. Double quotes unless the text holds `"` and no `'` (then
 * single quotes read better and need no escapes). Only printable ASCII passes through;
 * everything else becomes an escape, so no line break, NUL, bidi control or quote can
 * end the literal, and `\N{...}` can never appear because backslashes are escaped.
 */
function pyString(s: string): string {
  const quote = s.includes('"') && !s.includes("'") ? "'" : '"';
  let out = quote;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      const ch = s[i]!;
      out += ch === "\\" || ch === quote ? `\\${ch}` : ch;
      continue;
    }
    const short = SHORT_ESCAPES[unit];
    if (short !== undefined) {
      out += short;
    } else if (unit <= 0xff) {
      out += `\\x${hex(unit, 2)}`;
    } else if (isHighSurrogate(unit) && isLowSurrogate(s.charCodeAt(i + 1))) {
      // One astral character must stay one Python code point, not two surrogates.
      out += `\\U${hex(s.codePointAt(i)!, 8)}`;
      i++;
    } else {
      // Includes lone surrogates: Python accepts "\udXXX" and keeps it as one code point.
      out += `\\u${hex(unit, 4)}`;
    }
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** `keyword.kwlist` (3.11-3.13). */
export const PYTHON_KEYWORDS: readonly string[] = [
  "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
  "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
  "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/** `keyword.softkwlist` (3.12 added `type`): legal names, but confusing ones to assign. */
export const PYTHON_SOFT_KEYWORDS: readonly string[] = ["_", "case", "match", "type"];

/**
 * Names a generated module must not rebind: every builtin of CPython 3.11-3.13
 * (shadowing `id` or `open` breaks code that a later edit adds), the module dunders,
 * and the names the DAG templates themselves import or define at module level.
 */
export const PYTHON_RESERVED_NAMES: readonly string[] = [
  // builtins: functions and types
  "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes",
  "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits", "delattr", "dict",
  "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float", "format", "frozenset",
  "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input", "int", "isinstance",
  "issubclass", "iter", "len", "license", "list", "locals", "map", "max", "memoryview", "min", "next",
  "object", "oct", "open", "ord", "pow", "print", "property", "quit", "range", "repr", "reversed",
  "round", "set", "setattr", "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple",
  "type", "vars", "zip",
  // builtins: constants and exceptions
  "Ellipsis", "NotImplemented",
  "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BaseExceptionGroup",
  "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
  "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
  "DeprecationWarning", "EOFError", "EncodingWarning", "EnvironmentError", "Exception",
  "ExceptionGroup", "FileExistsError", "FileNotFoundError", "FloatingPointError", "FutureWarning",
  "GeneratorExit", "IOError", "ImportError", "ImportWarning", "IndentationError", "IndexError",
  "InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt", "LookupError",
  "MemoryError", "ModuleNotFoundError", "NameError", "NotADirectoryError", "NotImplementedError",
  "OSError", "OverflowError", "PendingDeprecationWarning", "PermissionError", "ProcessLookupError",
  "PythonFinalizationError", "RecursionError", "ReferenceError", "ResourceWarning", "RuntimeError",
  "RuntimeWarning", "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning",
  "SystemError", "SystemExit", "TabError", "TimeoutError", "TypeError", "UnboundLocalError",
  "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError",
  "UnicodeWarning", "UserWarning", "ValueError", "Warning", "ZeroDivisionError",
  "_IncompleteInputError",
  // module dunders (`__debug__` cannot even be assigned)
  "__annotations__", "__build_class__", "__builtins__", "__cached__", "__debug__", "__dict__",
  "__doc__", "__file__", "__import__", "__loader__", "__name__", "__package__", "__path__", "__spec__",
  // what generated DAG modules import or define
  "DAG", "BashOperator", "airflow", "dag", "datetime", "pendulum",
];

const RESERVED = new Set<string>([...PYTHON_KEYWORDS, ...PYTHON_SOFT_KEYWORDS, ...PYTHON_RESERVED_NAMES]);

/**
 * A legal, ASCII-only Python identifier for `name`: every other character (code
 * point, not UTF-16 unit) becomes `_`, a leading digit gets a `_` prefix, and
 * keywords and reserved names get a `_` suffix (`class` -> `class_`, `id` -> `id_`).
 * Different names may legalize to the same identifier; use `uniqueIdentifiers`.
 */
export function pyIdentifier(name: string): string {
  let id = "";
  for (const ch of name) id += /^[A-Za-z0-9_]$/.test(ch) ? ch : "_";
  if (id === "") id = "_";
  if (/^[0-9]/.test(id)) id = `_${id}`;
  while (RESERVED.has(id)) id += "_";
  return id;
}

/**
 * Distinct identifiers for a set of names. Names are legalized in code-point order and
 * clashes get `_2`, `_3`, ..., so the same set always maps the same way whatever order
 * it arrives in. `reserved` holds identifiers the caller already uses.
 */
export function uniqueIdentifiers(names: Iterable<string>, reserved: Iterable<string> = []): Map<string, string> {
  const taken = new Set<string>(reserved);
  const result = new Map<string, string>();
  for (const name of [...new Set(names)].sort(compareCodePoints)) {
    const base = pyIdentifier(name);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base}_${n}`;
    taken.add(candidate);
    result.set(name, candidate);
  }
  return result;
}

// Everything Python's tokenizer or str.splitlines() could treat as ending a line.
const LINE_BREAKS = /[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]/g;

/**
 * One `# ...` comment line. Line breaks become spaces so the text cannot end the
 * comment; other control and non-ASCII characters are shown as `\xNN`/`\uNNNN` so
 * the file stays ASCII; and `coding:`/`coding=` gets a space, because a comment on
 * line 1 or 2 that matches PEP 263 would switch the file's encoding (a `utf-7` cookie
 * turns `+AAo-` inside a comment into a newline followed by code).
 */
export function pyComment(text: string): string {
  let body = "";
  for (const ch of text.replace(LINE_BREAKS, " ")) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp <= 0x7e) body += ch;
    else if (cp <= 0xff) body += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) body += `\\u${hex(cp, 4)}`;
    else body += `\\U${hex(cp, 8)}`;
  }
  body = body.replace(/(coding)(?=[:=])/gi, "$1 ").trimEnd();
  return body === "" ? "#" : `# ${body}`;
}
