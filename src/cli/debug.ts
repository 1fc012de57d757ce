// Whether the user asked for internals (stack traces): `--debug` before any `--`, or a DEBUG
// variable that names overlab (DEBUG=overlab*, DEBUG=*), as the debug package reads it.

export function debugRequested(argv: readonly string[], env: Record<string, string | undefined>): boolean {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes('--debug')) return true;
  return (env.DEBUG ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((pattern) => !pattern.startsWith('-') && new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test('overlab'));
}
