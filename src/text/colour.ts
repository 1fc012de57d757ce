// Colour only when a person is watching: a TTY, no NO_COLOR, not --json (docs/architecture.md, "The command layer").
export interface ColourDecisionInput {
  isTTY: boolean;
  env: Record<string, string | undefined>;
  json: boolean;
}

export function shouldUseColour({ isTTY, env, json }: ColourDecisionInput): boolean {
  if (json) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

export interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap = (code: number, reset: number) => (text: string) => `\u001b[${code}m${text}\u001b[${reset}m`;

export function palette(enabled: boolean): Palette {
  if (!enabled) {
    const plain = (text: string) => text;
    return { green: plain, red: plain, yellow: plain, dim: plain, bold: plain };
  }
  return { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}
