// Text from outside (a merchant's status, codes and messages, provider ids, principal names, error details)
// reaches the operator's terminal through the human tables. A control byte in it would be obeyed there:
// ESC ] 0 ; … BEL retitles the window, ESC [ 2 J clears the screen, CSI (U+009B) does the same in one
// character, and bidi overrides reorder what is shown. Every printed field goes through printable(), which
// shows such characters as escapes (\x1b, \u009b) instead.

/** C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One field for a human table or line: control and direction characters shown as escapes, never sent raw. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/**
 * JSON for a terminal or a pipe. JSON.stringify escapes C0 controls but writes C1 controls (U+0080–U+009F),
 * U+2028/2029 and bidi controls as they are; these can only occur inside strings, where \uXXXX means the same.
 */
export function terminalJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g, (char) =>
    `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
