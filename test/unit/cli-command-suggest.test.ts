import { describe, expect, it } from 'vitest';
import { commandWords, suggestCommands } from '../../src/cli/command-suggest.js';

const ids = ['up', 'down', 'verify', 'validate', 'ls', 'labs', 'logs', 'inspect', 'node add', 'node rm', 'fault add', 'fault clear', 'fault ls', 'workshop start', 'workshop stop', 'image build'];

describe('did you mean', () => {
  it('names the closest command for a typo', () => {
    expect(suggestCommands(['verfy'], ids)).toEqual(['verify']);
    expect(suggestCommands(['donw'], ids)).toEqual(['down']);
    expect(suggestCommands(['lab'], ids)).toEqual(['labs']);
  });

  it('completes a topic: the sub-command closest, or all of them', () => {
    expect(suggestCommands(['node', 'ad'], ids)).toEqual(['node add']);
    expect(suggestCommands(['nod', 'x'], ids)).toEqual(['node add', 'node rm']);
    expect(suggestCommands(['wrkshop', 'strt'], ids)).toEqual(['workshop start']);
    expect(suggestCommands(['image'], ids)).toEqual(['image build']);
  });

  it('falls back to commands that start with the word, and to nothing', () => {
    expect(suggestCommands(['insp'], ids)).toEqual(['inspect']);
    expect(suggestCommands(['kubectl'], ids)).toEqual([]);
    expect(suggestCommands([''], ids)).toEqual([]);
  });
});

describe('the words that name the command', () => {
  it('are the first, or a topic and the next; the rest are its arguments', () => {
    expect(commandWords(['verfy', 'my-lab'], ids)).toEqual(['verfy']);
    expect(commandWords(['node', 'ad', 'lab', 'host3'], ids)).toEqual(['node', 'ad']);
    expect(commandWords(['nod', 'add'], ids)).toEqual(['nod']);
  });
});
