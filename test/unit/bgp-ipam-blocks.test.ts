import { describe, expect, it } from 'vitest';
import { allocateBlocks, blockGateway, blockOf, podsPerBlock, reservedInBlock } from '../../src/plan/ipam-blocks.js';

const pods = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `pod${i + 1}` }));

describe('IPAM blocks', () => {
  it('gives hosts the pool\'s /26 blocks in order, pods from the third address (the bridge is the second)', () => {
    const [h1, h2] = allocateBlocks('10.244.0.0/16', 26, [
      { host: 'host1', pods: pods(2) },
      { host: 'host2', pods: pods(1) },
    ]);
    expect(h1).toEqual({ host: 'host1', blocks: ['10.244.0.0/26'], pods: [
      { name: 'pod1', ip: '10.244.0.2', block: '10.244.0.0/26' },
      { name: 'pod2', ip: '10.244.0.3', block: '10.244.0.0/26' },
    ] });
    expect(h2!.blocks).toEqual(['10.244.0.64/26']);
    expect(h2!.pods[0]!.ip).toBe('10.244.0.66');
    expect(blockGateway('10.244.0.64/26')).toBe('10.244.0.65');
  });

  it('takes a second block when the first is full (61 pods per /26)', () => {
    expect(podsPerBlock(26)).toBe(61);
    const [h1, h2] = allocateBlocks('10.244.0.0/16', 26, [{ host: 'host1', pods: pods(62) }, { host: 'host2', pods: [] }]);
    expect(h1!.blocks).toEqual(['10.244.0.0/26', '10.244.0.64/26']);
    expect(h1!.pods[60]).toEqual({ name: 'pod61', ip: '10.244.0.62', block: '10.244.0.0/26' });
    expect(h1!.pods[61]).toEqual({ name: 'pod62', ip: '10.244.0.66', block: '10.244.0.64/26' });
    // a host with no pods still holds a block (it has something to announce)
    expect(h2!.blocks).toEqual(['10.244.0.128/26']);
  });

  it('gives a fixed address\'s block to its host first, and the others go round it', () => {
    const [h1, h2] = allocateBlocks('10.244.0.0/24', 26, [
      { host: 'host1', pods: [{ name: 'a' }] },
      { host: 'host2', pods: [{ name: 'b', ip: '10.244.0.10' }, { name: 'c' }] },
    ]);
    expect(h2!.blocks).toEqual(['10.244.0.0/26']);
    expect(h2!.pods.map((p) => p.ip)).toEqual(['10.244.0.10', '10.244.0.2']);
    expect(h1!.blocks).toEqual(['10.244.0.64/26']);
  });

  it('keeps blocks already held (a host joining a running lab)', () => {
    const [h3] = allocateBlocks('10.244.0.0/16', 26, [{ host: 'host3', pods: pods(1) }], ['10.244.0.0/26', '10.244.0.64/26']);
    expect(h3!.blocks).toEqual(['10.244.0.128/26']);
  });

  it('refuses a block two hosts claim, an address that is the bridge\'s, and a full pool', () => {
    expect(() => allocateBlocks('10.244.0.0/16', 26, [
      { host: 'host1', pods: [{ name: 'a', ip: '10.244.0.5' }] },
      { host: 'host2', pods: [{ name: 'b', ip: '10.244.0.6' }] },
    ])).toThrow(/block 10\.244\.0\.0\/26, which host1 holds/);
    expect(reservedInBlock('10.244.0.65', 26)).toMatch(/bridge's address in block 10\.244\.0\.64\/26/);
    expect(() => allocateBlocks('10.244.0.0/16', 26, [{ host: 'h', pods: [{ name: 'a', ip: '10.244.0.63' }] }])).toThrow(/broadcast/);
    expect(() => allocateBlocks('10.244.0.0/25', 26, [{ host: 'a', pods: [] }, { host: 'b', pods: [] }, { host: 'c', pods: [] }])).toThrow(/no free \/26 block left for c/);
    expect(() => allocateBlocks('10.244.0.0/16', 26, [{ host: 'h', pods: [{ name: 'a', ip: '10.245.0.5' }] }])).toThrow(/outside the pod network/);
  });

  it('names the block an address is in', () => {
    expect(blockOf('10.244.1.200', 26)).toBe('10.244.1.192/26');
  });
});
