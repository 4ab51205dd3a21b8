/**
 * Strings that have broken code generators, loaders and APIs before: quote and escape
 * games, the template syntaxes of every layer between YAML and bash, invisible and bidi
 * characters, broken UTF-16, encoding-cookie tricks, and sheer size. Lifted from the
 * ingest template's hostile-value fixture so every plugin tests against the same list.
 */

/** Well-formed Unicode only: what any UTF-8 file, API or warehouse column can carry. */
export const HOSTILE_TEXT: readonly string[] = [
  "",
  'say "hi"',
  "it's",
  `both ' and "`,
  '"""',
  "'''",
  'x"""; import os; os.system("id"); """',
  "x'''; __import__('os').system('id'); '''",
  "back\\slash",
  "trailing backslash\\",
  "\\",
  "line\nbreak",
  "crlf\r\nline",
  "nul\u0000byte",
  "tab\tvt\u000bff\u000cfs\u001c",
  "nel\u0085line\u2028sep\u2029para",
  "{{ ds }}",
  "{{ conn.shop_api.password }}",
  "{% raw %}{{ 7 * 7 }}{% endraw %}",
  "{# jinja comment #}",
  "${HOME}",
  "$(rm -rf /)",
  "`id`",
  "; rm -rf / #",
  '"$XO_RUN_ID" && echo pwned',
  "Robert'); DROP TABLE students;--",
  "None",
  "null",
  "class",
  "__import__('os').system('id')",
  "emoji \u{1f600} family \u{1f469}\u200d\u{1f469}\u200d\u{1f467}",
  "combining e\u0301 and A\u030a",
  "RTL override \u202egnp.exe",
  "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 mixed",
  "BOM \ufeff zero width \u200b",
  "# coding: utf-7",
  "+AAo-print('PWNED')",
  "notes.md",
  "  padded with spaces  ",
  "long \u00e9\u4e2d \"'\\\n{{ x }}".repeat(2000),
];

/** Lone and reversed surrogates: legal in JS and Python strings, not in UTF-8 text. */
export const BROKEN_UTF16: readonly string[] = ["lone high \ud800 here", "lone low \udc00 here", "reversed pair \ude00\ud83d"];

/** Everything, for code generators: a Python literal can hold any JS string. */
export const HOSTILE_STRINGS: readonly string[] = [...HOSTILE_TEXT, ...BROKEN_UTF16];

/** The Jinja in HOSTILE_STRINGS: none of it may reach an Airflow templated field unescaped. */
export const HOSTILE_JINJA: readonly string[] = ["{{ ds }}", "{{ conn.shop_api.password }}", "{% raw %}", "{{ 7 * 7 }}", "{# jinja comment #}", "{{ x }}"];

/**
 * Column names a warehouse must quote: quotes, spaces, dots, SQL, unicode, a keyword.
 * Distinct even when case is folded, so a case-insensitive warehouse can keep them all.
 */
export const HOSTILE_COLUMN_NAMES: readonly string[] = [
  'say "hi"',
  "it's",
  "with space",
  "semi;colon",
  "dash-ed",
  "a.b",
  "back\\slash",
  "select",
  "Robert'); DROP TABLE students;--",
  "{{ ds }}",
  "\u00fcn\u00efc\u00f6d\u00e9 \u4e2d",
  "emoji \u{1f600}",
  "$dollar",
  "123starts_with_digit",
];
