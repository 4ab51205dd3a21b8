/**
 * The testkit's hostile strings, which every plugin's contract suite uses too: quote and
 * escape games, template syntaxes, invisible and bidi characters, broken UTF-16,
 * encoding-cookie tricks and sheer size.
 */
export { HOSTILE_STRINGS as HOSTILE } from "@xo-foundry/testkit";
