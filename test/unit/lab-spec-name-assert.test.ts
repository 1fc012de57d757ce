// Names from the command line meet the spec's rules: an input error (exit 2) naming the flag.
import { describe, expect, it } from 'vitest';
import { OverlabError, exitCodeFor } from '../../src/base/errors.js';
import { assertBridgeName, assertName, assertNewNodeName, assertRef } from '../../src/lab-spec/name-assert.js';

function thrown(f: () => unknown): OverlabError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OverlabError);
    expect(exitCodeFor(e)).toBe(2);
    return e as OverlabError;
  }
  throw new Error('did not throw');
}

describe('command-line names', () => {
  it('assertName refuses what a spec refuses, naming where it came from', () => {
    expect(assertName('pod', 'pod1', '--pods')).toBe('pod1');
    const e = thrown(() => assertName('pod', 'p$(touch${IFS}/tmp/x)', '--pods'));
    expect(e.message).toBe('--pods: "p$(touch${IFS}/tmp/x)" is not a pod name: use lower-case letters, digits and "-", starting with a letter, at most 15 characters');
    expect(e.hint).toContain('e.g. pod1');
    thrown(() => assertName('iface', '-i', 'the interface'));
    thrown(() => assertName('node', 42, 'the host'));
  });

  it('assertNewNodeName also refuses the names overlab gives itself', () => {
    expect(assertNewNodeName('host3', 'the new host')).toBe('host3');
    expect(thrown(() => assertNewNodeName('etcd', 'the new host')).message).toMatch(/^the new host: "etcd" is reserved/);
    thrown(() => assertNewNodeName('switch', 'the new host'));
  });

  it('assertBridgeName', () => {
    expect(assertBridgeName('cni0', '--bridge')).toBe('cni0');
    thrown(() => assertBridgeName('eth0', '--bridge'));
    thrown(() => assertBridgeName('b$(id)', '--bridge'));
  });

  it('assertRef parses targets of the allowed kinds only', () => {
    expect(assertRef('host1/pod1', ['host', 'pod', 'node'], 'the target')).toEqual({ kind: 'pod', host: 'host1', pod: 'pod1' });
    expect(assertRef('outside', ['host', 'pod', 'node'], 'the target', ['outside'])).toEqual({ kind: 'node', node: 'outside' });
    expect(thrown(() => assertRef('host1:eth0', ['host', 'pod', 'node'], 'the target')).message).toBe('the target: "host1:eth0" is an interface');
    expect(thrown(() => assertRef('host1;reboot', ['host', 'pod'], 'the target')).message).toBe('the target: "host1;reboot" is not a valid reference');
    expect(thrown(() => assertRef('--json', ['host'], 'the target')).message).toMatch(/^the target: /);
  });
});
