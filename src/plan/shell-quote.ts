// The one function that turns a value into shell text. overlab never runs shell text it built
// (commands are argv arrays end to end); this is only for what a person reads and may type:
// `up --dry-run`, and the commands named in error messages.

/** Characters that mean nothing to sh, bash or zsh anywhere in a word. */
const PLAIN = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** Single quotes: the only quoting in which no character is special; a `'` becomes `'\''`. */
function singleQuoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `value` as one shell word: bare when nothing in it is special, else single-quoted. */
export function shellQuote(value: string): string {
  return PLAIN.test(value) ? value : singleQuoted(value);
}

/** An argv as one command line a student can type. */
export function shellCommand(argv: readonly string[]): string {
  // A first word with "=" would be read as a variable assignment.
  return argv.map((arg, i) => (i === 0 && arg.includes('=') ? singleQuoted(arg) : shellQuote(arg))).join(' ');
}
