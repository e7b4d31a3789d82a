/**
 * Text from certificates, CRLs, OCSP responses, CSV cells and servers is
 * untrusted: printed raw, an ESC or BEL retitles or clears the terminal, a
 * newline forges an output line, a C1 control (U+0080-U+009F) acts as ESC on
 * some terminals, and a bidi control (U+202A-U+202E, U+2066-U+2069) reorders
 * what is read. These show such characters as escapes instead.
 */

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, but the line feeds and tabs a multi-line text is made of stay. */
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escaped(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One untrusted value on one line: every control character escaped, line breaks included. */
export function oneLine(text: string): string {
  return text.replace(CONTROLS, escaped);
}

/** A whole text for the terminal: its own line breaks kept, every other control character escaped. */
export function terminalText(text: string): string {
  return text.replace(CONTROLS_BUT_LINES, escaped);
}
