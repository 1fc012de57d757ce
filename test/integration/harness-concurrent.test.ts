// A run in one of several concurrent tests is not ended when a test beside it finishes: vitest's
// global onTestFinished goes to the last test started, and a short test once ended the workshop
// selftest running beside it (harness.ts endsWithTest).
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { endsWithTest } from './harness.js';

describe.concurrent('side by side', () => {
  it('a long run', async () => {
    const r = await endsWithTest(execa('sleep', ['1.5'], { reject: false }));
    expect(r.signal).toBeUndefined();
    expect(r.exitCode).toBe(0);
  });

  it('a short test that finishes first', () => {
    expect(1).toBe(1);
  });
});
