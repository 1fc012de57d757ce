import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/core/poll.js';

describe('pollUntil', () => {
  it('asks again until yes', async () => {
    let calls = 0;
    expect(await pollUntil(async () => ++calls === 3, { timeoutMs: 1000, intervalMs: 1, signal: new AbortController().signal })).toBe(true);
    expect(calls).toBe(3);
  });
  it('gives up after the deadline', async () => {
    expect(await pollUntil(async () => false, { timeoutMs: 20, intervalMs: 5, signal: new AbortController().signal })).toBe(false);
  });
  it('stops on Ctrl-C with the interrupted error', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pollUntil(async () => false, { timeoutMs: 1000, signal: controller.signal })).rejects.toMatchObject({ kind: 'interrupted' });
  });
});
