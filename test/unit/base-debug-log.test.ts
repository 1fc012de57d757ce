import { afterEach, describe, expect, it, vi } from 'vitest';
import { debugLog, debugNames, tolerated } from '../../src/base/debug-log.js';
import { debugRequested } from '../../src/cli/debug.js';

describe('debugNames reads DEBUG as the debug package does', () => {
  it.each([
    ['overlab*', 'overlab:faults', true],
    ['overlab:*', 'overlab:faults', true],
    ['overlab:faults', 'overlab:faults', true],
    ['overlab:faults', 'overlab:runtime', false],
    ['*', 'overlab:runtime', true],
    ['express,overlab*', 'overlab:runtime', true],
    ['express overlab:runtime', 'overlab:runtime', true],
    ['overlab*,-overlab:runtime', 'overlab:runtime', false],
    ['overlab*,-overlab:runtime', 'overlab:faults', true],
    ['express', 'overlab:runtime', false],
    ['', 'overlab:runtime', false],
    [undefined, 'overlab:runtime', false],
    ['overlab.*', 'overlab:runtime', false], // a dot is a dot, not any character
  ])('DEBUG=%j names %s: %s', (debug, namespace, named) => {
    expect(debugNames(debug, namespace)).toBe(named);
  });
});

describe('debugLog', () => {
  it('writes one line naming the scope, what was tried and why it failed, only under DEBUG', () => {
    const lines: string[] = [];
    const write = (l: string) => lines.push(l);
    const error = Object.assign(new Error('connect ENOENT /run/docker.sock'), { code: 'ENOENT' });
    debugLog('runtime', 'read the exit code', error, { DEBUG: 'overlab*' }, write);
    debugLog('faults', 'restore the routes', Object.assign(new Error('RTNETLINK answers: File exists'), { code: 'EEXIST' }), { DEBUG: 'overlab:faults' }, write);
    debugLog('runtime', 'not shown', error, { DEBUG: 'overlab:faults' }, write);
    debugLog('runtime', 'not shown either', error, {}, write);
    debugLog('lab', 'a non-Error', { status: 500 }, { DEBUG: '*' }, write);
    expect(lines).toEqual([
      'overlab:runtime read the exit code: connect ENOENT /run/docker.sock\n',
      'overlab:faults restore the routes: RTNETLINK answers: File exists (EEXIST)\n',
      'overlab:lab a non-Error: {"status":500}\n',
    ]);
  });
});

describe('tolerated', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('settles with the fallback and reports the error on stderr under DEBUG', async () => {
    vi.stubEnv('DEBUG', 'overlab*');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(Promise.reject(new Error('no such container')).catch(tolerated('lab', 'list the labs', [] as string[]))).resolves.toEqual([]);
    await expect(Promise.reject(new Error('gone')).catch(tolerated('probes', 'stop a capture'))).resolves.toBeUndefined();
    expect(stderr.mock.calls.map((c) => c[0])).toEqual(['overlab:lab list the labs: no such container\n', 'overlab:probes stop a capture: gone\n']);
  });

  it('says nothing without DEBUG', async () => {
    vi.stubEnv('DEBUG', '');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(Promise.reject(new Error('gone')).catch(tolerated('probes', 'stop a capture', 0))).resolves.toBe(0);
    expect(stderr).not.toHaveBeenCalled();
  });
});

describe('debugRequested (stack traces)', () => {
  it('is --debug before any --, or DEBUG naming overlab', () => {
    expect(debugRequested(['up', '--debug'], {})).toBe(true);
    expect(debugRequested(['exec', 'lab', '--', '--debug'], {})).toBe(false);
    expect(debugRequested(['up'], { DEBUG: 'overlab*' })).toBe(true);
    expect(debugRequested(['up'], { DEBUG: '*,-overlab' })).toBe(false);
    expect(debugRequested(['up'], { DEBUG: 'express' })).toBe(false);
  });
});
