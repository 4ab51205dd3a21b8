/**
 * Landed file names for attachments: `<messageId>_<position>_<name>`. The message id makes
 * names unique across messages (two vendors both send `report.csv`), the position within the
 * message (counted before filters, so it does not shift when a filter changes) unique within
 * one, and the name keeps the file recognisable. The runtime accepts letters, digits, `.`, `_`
 * and `-` only, at most 200 characters.
 */

const MAX_NAME = 200;
/** The longest extension kept when a name has to be shortened. */
const MAX_EXTENSION = 12;

export function landedFileName(messageId: string, position: number, filename: string): string {
  const prefix = `${safe(messageId) || "message"}_${position}_`;
  // The prefix keeps the name from starting with a dot; a leading `_` would only double the separator.
  const name = safe(filename).replace(/^_+/, "") || "attachment";
  const room = MAX_NAME - prefix.length;
  if (name.length <= room) return prefix + name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot <= MAX_EXTENSION ? name.slice(dot) : "";
  return prefix + name.slice(0, room - extension.length) + extension;
}

/** Every run of other characters, and every `..`, becomes one `_`. */
function safe(text: string): string {
  return text
    .normalize("NFC")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/\.{2,}/g, "_")
    .replace(/_{2,}/g, "_");
}
