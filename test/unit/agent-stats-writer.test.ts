// The stats file: the format the CLI parses, written when something changed or as a heartbeat.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAgentStats } from '../../src/shared/agent-stats.js';
import { silentLogger } from '../../src/agent/log.js';
import { type StatsBody, StatsWriter } from '../../src/agent/stats-writer.js';

function body(peers: number): StatsBody {
  return {
    host: 'host1',
    backend: 'vxlan',
    publicIp: '192.168.50.2',
    subnet: '10.244.1.0/24',
    lease: null,
    etcd: { reachable: true, watching: true, lastRevision: 7 },
    peers: Array.from({ length: peers }, (_, i) => ({ subnet: `10.244.${i + 2}.0/24`, publicIp: `192.168.50.${i + 3}`, backendType: 'vxlan' })),
    rejectedLeases: [],
    peerSync: { syncs: 1, fullSyncs: 1, changes: 0, failures: 0, processes: 3, lastDurationMs: 1, lastAt: null, inSync: true },
    device: {},
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('stats writer', () => {
  it('writes on change and as a heartbeat, not on every tick', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const file = join(mkdtempSync(join(tmpdir(), 'stats-')), 'stats.json');
    let peers = 1;
    const w = new StatsWriter(file, 500, silentLogger, () => body(peers));
    await w.write();
    const writes = () => parseAgentStats(readFileSync(file, 'utf8'))!.updatedAt;
    const first = writes();
    w.start();
    await vi.advanceTimersByTimeAsync(5000); // ten ticks, nothing changed
    expect(writes()).toBe(first);
    peers = 2;
    await vi.advanceTimersByTimeAsync(500);
    const s = parseAgentStats(readFileSync(file, 'utf8'))!;
    expect(s.peers).toHaveLength(2);
    expect(s.updatedAt).not.toBe(first);
    const second = s.updatedAt;
    await vi.advanceTimersByTimeAsync(9500);
    expect(writes()).toBe(second);
    await vi.advanceTimersByTimeAsync(500); // 10 s after the last write: the heartbeat
    expect(writes()).not.toBe(second);
    await w.stop();
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  it('puts host, pid and times first, and parses back (tolerating junk)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stats-')), 'stats.json');
    const w = new StatsWriter(file, 500, silentLogger, () => body(0));
    await w.write();
    await w.stop();
    const text = readFileSync(file, 'utf8');
    expect(Object.keys(JSON.parse(text)).slice(0, 4)).toEqual(['host', 'pid', 'startedAt', 'updatedAt']);
    expect(parseAgentStats(text)).toMatchObject({ host: 'host1', pid: process.pid, rejectedLeases: [], peerSync: { inSync: true } });
    expect(parseAgentStats('')).toBeNull();
    expect(parseAgentStats('{"host":')).toBeNull();
    expect(parseAgentStats('[1]')).toBeNull();
  });
});
