// The report page as text: self-contained (nothing it would fetch), escaped, every node and pod
// drawn, a trace's hops and drop drawn, the tables present.
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../src/report/html/report-page.js';
import { renderTopologySvg } from '../../src/report/html/topology-svg.js';
import { loadTraceFixture, replayLive } from './trace-fixture.js';

describe('report page', () => {
  const f = loadTraceFixture('flannel-udp');
  const trace = replayLive('flannel-udp').result;
  const html = renderReportHtml({
    lab: { ...f.lab, description: 'a <b>bold</b> "lab"' },
    generatedAt: '2026-12-02T00:00:00Z',
    verify: { lab: f.lab.name, passed: 1, failed: 1, unreachable: 0, checks: [
      { name: 'ok', kind: 'ping', status: 'pass', seen: '3/3', durationMs: 1, details: {} },
      { name: 'bad <one>', kind: 'capture', status: 'fail', seen: '-', reason: 'not seen', durationMs: 1, details: {} },
    ] },
    leases: [{ network: 'default', leases: [{ key: '/coreos.com/network/subnets/10.244.1.0-24', subnet: '10.244.1.0/24', publicIp: '192.168.50.2', backendType: 'udp', raw: {} }] }],
    hosts: [{ node: 'host1', routes: [{ dst: '10.244.0.0/16', dev: 'flannel0', onlink: false }], neighbours: [], fdb: [] }],
    traces: [trace],
  });

  it('fetches nothing: no external URL, no script, no link, styles inline', () => {
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).toContain('<style>');
  });

  it('escapes what the lab and the checks say', () => {
    expect(html).toContain('a &lt;b&gt;bold&lt;/b&gt; &quot;lab&quot;');
    expect(html).toContain('bad &lt;one&gt;');
    expect(html).not.toContain('<b>bold</b>');
  });

  it('draws every node and pod, the trace with its answer, and has the tables', () => {
    for (const host of f.lab.hosts) {
      expect(html).toContain(`data-node="${host.name}"`);
      for (const pod of host.pods) expect(html).toContain(`data-pod="${host.name}/${pod.name}"`);
    }
    expect(html).toContain('data-node="etcd"');
    expect((html.match(/class="hop"/g) ?? []).length).toBe(trace.hops.length);
    expect(html).toContain('class="trace-line reply"');
    expect(html).toContain('/coreos.com/network/subnets/10.244.1.0-24');
    expect(html).toContain('data-host-tables="host1"');
    expect(html).toContain('1 passed, 1 failed');
  });

  it('marks the drop of a trace that did not arrive', () => {
    const nf = loadTraceFixture('no-overlay');
    const svg = renderTopologySvg(nf.lab, [replayLive('no-overlay').result]);
    expect(svg).toContain('data-drop="router:eth0"');
    expect(svg).toContain('data-node="router"');
  });
});

describe("the report's Leases section says what is true", () => {
  const f = loadTraceFixture('flannel-udp');
  const page = (leases: Parameters<typeof renderReportHtml>[0]['leases']) => renderReportHtml({ lab: f.lab, generatedAt: '2026-12-02T00:00:00Z', leases, hosts: [], traces: [] });
  it('a lab without etcd', () => {
    expect(page([])).toContain('no etcd in this lab');
  });
  it('a lab with etcd that holds no lease, or could not be read: not "no etcd"', () => {
    const none = page([{ network: 'default', leases: [] }]);
    expect(none).not.toContain('no etcd');
    expect(none).toContain('network default: etcd holds no lease');
    const unreadable = page([{ network: 'default', leases: [], unreadable: 'etcdctl <exited> 1' }]);
    expect(unreadable).not.toContain('no etcd');
    expect(unreadable).toContain('network default: etcd could not be read (etcdctl &lt;exited&gt; 1)');
  });
});
