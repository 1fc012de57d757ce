import { describe, expect, it } from 'vitest';
import { terminalSafe, terminalSafeKeepingColour } from '../../src/text/terminal-text.js';
import { palette } from '../../src/text/colour.js';

describe('terminal-safe text', () => {
  it('shows OSC, CSI and bell characters as escapes', () => {
    expect(terminalSafe('a\u001b]0;owned\u0007b')).toBe('a\\x1b]0;owned\\x07b');
    expect(terminalSafe('x\u001b[2Jy')).toBe('x\\x1b[2Jy');
    expect(terminalSafe('\u009b31m')).toBe('\\x9b31m');
    expect(terminalSafe('abc\u202eevil')).toBe('abc\\u202eevil');
  });

  it('keeps newlines, tabs and ordinary Unicode', () => {
    expect(terminalSafe('a\tb\nc → ✓ 名')).toBe('a\tb\nc → ✓ 名');
  });

  it('keeps overlab colours in a composed line but not a smuggled cursor move', () => {
    const colours = palette(true);
    const line = `${colours.green('PASS')} check\u001b[1A\u001b[2K`;
    expect(terminalSafeKeepingColour(line)).toBe(`${colours.green('PASS')} check\\x1b[1A\\x1b[2K`);
  });
});
