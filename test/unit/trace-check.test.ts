import { describe, expect, it } from 'vitest';
import { evaluateTrace } from '../../src/trace/trace-check.js';
import { replayLive } from './trace-fixture.js';

describe('the trace check kind', () => {
  const vxlan = replayLive('flannel-vxlan').result;
  const noOverlay = replayLive('no-overlay').result;

  it('passes a delivered trace that crosses the given interfaces in order', () => {
    const v = evaluateTrace(vxlan, { from: 'host1/pod1', to: 'host2/pod1', expect: 'delivered', via: ['host1:flannel.1', 'host2:eth0'] });
    expect(v).toMatchObject({ status: 'pass' });
    expect(v.seen).toMatch(/^delivered in 13 hops, \d+ µs; via host1\/pod1:eth0 → /);
  });

  it('fails when an interface is missing or out of order', () => {
    expect(evaluateTrace(vxlan, { from: 'a', to: 'b', expect: 'delivered', via: ['host1:flannel0'] })).toMatchObject({ status: 'fail', reason: 'never crossed host1:flannel0' });
    expect(evaluateTrace(vxlan, { from: 'a', to: 'b', expect: 'delivered', via: ['host2:eth0', 'host1:flannel.1'] })).toMatchObject({ status: 'fail', reason: 'crossed host1:flannel.1, but not after host2:eth0' });
  });

  it('checks where a drop happened, by node or by interface', () => {
    expect(evaluateTrace(noOverlay, { from: 'a', to: 'b', expect: 'dropped', dropAt: 'router' })).toMatchObject({ status: 'pass' });
    expect(evaluateTrace(noOverlay, { from: 'a', to: 'b', expect: 'dropped', dropAt: 'router:eth0' })).toMatchObject({ status: 'pass' });
    const wrong = evaluateTrace(noOverlay, { from: 'a', to: 'b', expect: 'dropped', dropAt: 'host2' });
    expect(wrong.status).toBe('fail');
    expect(wrong.reason).toContain("expected the drop at host2, but it was at router:eth0 (no route to 172.16.2.0/24 (host2's pod subnet))");
  });

  it('fails a delivery expectation on a dropped trace, and the reverse', () => {
    expect(evaluateTrace(noOverlay, { from: 'a', to: 'b', expect: 'delivered' }).reason).toMatch(/^expected delivery, but not delivered: dropped at router:eth0/);
    expect(evaluateTrace(vxlan, { from: 'a', to: 'b', expect: 'dropped' }).reason).toBe('expected a drop, but it was delivered in 13 hops');
  });
});
