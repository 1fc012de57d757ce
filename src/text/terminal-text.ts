// Text that came from a spec, a lab or the network is printed as data, never as terminal
// commands: every control character becomes a visible escape, so a check named "\e]0;owned\a"
// can neither retitle the terminal, move the cursor nor hide what follows it.

// C0 controls except newline and tab, DEL, the C1 controls, and the Unicode bidirectional
// overrides that reorder what a reader sees.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// overlab's own colours: Select Graphic Rendition sequences only (palette() in colour.ts).
const SGR = /\u001b\[[0-9;]*m/g;

function visible(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** For a value that came from outside overlab: every control character shown as an escape. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, visible);
}

/** For a whole line overlab composed: its own colour sequences stay, any other control
 * character (one that slipped in with a value) is shown as an escape. */
export function terminalSafeKeepingColour(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SGR)) {
    out += terminalSafe(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + terminalSafe(text.slice(last));
}
