import { describe, expect, it } from 'vitest';
import { bashScript, complete, fishScript, zshScript, type CommandInfo, type LabWorld } from '../../src/cli/completion.js';
import { contextOnLine } from '../../src/cli/complete-fast.js';

const commands: CommandInfo[] = [
  { id: 'up', flags: ['--dry-run', '--json'], args: ['spec'] },
  { id: 'down', flags: ['--all', '--json'], args: ['lab-or-spec'] },
  { id: 'exec', flags: ['--json'], args: ['lab', 'target'] },
  { id: 'logs', flags: ['--tail'], args: ['lab', 'host'] },
  { id: 'node add', flags: ['--pods'], args: ['lab', 'none'] },
  { id: 'node rm', flags: [], args: ['lab', 'host'] },
  { id: 'run', flags: ['--junit'], args: ['specs'] },
  { id: 'trace', flags: ['--proto', '--pcap', '--reply'], args: ['lab', 'target', 'target'], valueFlags: { '--proto': ['icmp', 'udp', 'tcp'], '--pcap': [] } },
  { id: 'fault add', flags: [], args: ['lab', ['link-down', 'loss'], 'targets'] },
  { id: 'workshop start', flags: ['--dir'], args: ['exercise'], valueFlags: { '--dir': [] } },
  { id: 'completion', flags: [], args: [['bash', 'zsh', 'fish']] },
  { id: 'complete', flags: [], args: [], hidden: true },
];

const world: LabWorld = {
  labs: async () => ['host-gw', 'flannel-vxlan'],
  members: async (lab) =>
    lab === 'host-gw' ? { hosts: ['host1', 'host2'], pods: ['host1/pod1', 'host2/pod1'], nodes: ['router'] } : { hosts: [], pods: [], nodes: [] },
  specFiles: async (prefix) => ['labs/host-gw.yaml', 'labs/flannel-vxlan.yaml'].filter((f) => f.startsWith(prefix)),
  bundledLabs: async () => ['flannel-vxlan', 'same-host'],
  exercises: async () => ['01-veth-down', '02-bridge-port'],
};

const at = (...words: string[]) => complete(words, commands, world);

describe('completion', () => {
  it('offers commands, then sub-commands, never hidden ones', async () => {
    expect(await at('')).toEqual(['completion', 'down', 'exec', 'fault', 'logs', 'node', 'run', 'trace', 'up', 'workshop']);
    expect(await at('node', '')).toEqual(['add', 'rm']);
    expect(await at('co')).toEqual(['completion']); // not the hidden `complete`
  });

  it('offers lab names, and spec files where a spec is allowed', async () => {
    expect(await at('exec', '')).toEqual(['flannel-vxlan', 'host-gw']);
    expect(await at('down', 'h')).toEqual(['host-gw']);
    expect(await at('down', 'labs/f')).toEqual(['labs/flannel-vxlan.yaml']);
    expect(await at('up', 'labs/h')).toEqual(['labs/host-gw.yaml']);
    expect(await at('up', 'fl')).toEqual(['flannel-vxlan']); // a bundled lab, by name
    expect(await at('run', 'same-host', '')).toEqual(['flannel-vxlan', 'labs/flannel-vxlan.yaml', 'labs/host-gw.yaml', 'same-host']);
    expect(await at('run', 'labs/host-gw.yaml', 'labs/f')).toEqual(['labs/flannel-vxlan.yaml']);
  });

  it('offers the hosts, pods and nodes of the lab named before', async () => {
    expect(await at('exec', 'host-gw', 'host1')).toEqual(['host1', 'host1/pod1']);
    expect(await at('exec', 'host-gw', '')).toEqual(['host1', 'host1/pod1', 'host2', 'host2/pod1', 'router']);
    expect(await at('node', 'rm', 'host-gw', '')).toEqual(['host1', 'host2']);
    expect(await at('node', 'add', 'host-gw', '')).toEqual([]);
  });

  it('offers trace both ends, fault kinds then targets (repeating), exercises, shells', async () => {
    expect(await at('trace', 'host-gw', 'host1/', 'host2')).toEqual(['host2', 'host2/pod1']);
    expect(await at('trace', 'host-gw', 'host1/pod1', 'host2/pod1', '')).toEqual([]);
    expect(await at('fault', 'add', 'host-gw', 'l')).toEqual(['link-down', 'loss']);
    expect(await at('fault', 'add', 'host-gw', 'loss', 'host1', 'r')).toEqual(['router']);
    expect(await at('workshop', 'start', '0')).toEqual(['01-veth-down', '02-bridge-port']);
    expect(await at('completion', '')).toEqual(['bash', 'fish', 'zsh']);
  });

  it("offers a flag's values after it, and skips flag values when counting arguments", async () => {
    expect(await at('trace', '--proto', '')).toEqual(['icmp', 'tcp', 'udp']);
    expect(await at('trace', '--proto=u')).toEqual(['--proto=udp']);
    expect(await at('trace', '--pcap', '')).toEqual([]); // any value: the shell offers files
    expect(await at('trace', '--proto', 'udp', 'host-gw', '')).toEqual(['host1', 'host1/pod1', 'host2', 'host2/pod1', 'router']);
    expect(await at('trace', '--reply', 'host-gw', 'h')).toEqual(['host1', 'host1/pod1', 'host2', 'host2/pod1']);
    expect(await at('workshop', 'start', '--dir', 'x', '02')).toEqual(['02-bridge-port']);
  });

  it('offers flags for a dash, and nothing after `--`', async () => {
    expect(await at('down', '--')).toEqual(['--all', '--json']);
    expect(await at('exec', 'host-gw', 'host1', '--', '')).toEqual([]);
  });

  it('writes scripts that call back `complete` for bash and zsh', () => {
    expect(bashScript('overlab')).toContain('overlab complete --');
    expect(bashScript('overlab')).toContain('complete -o default -F _overlab_complete overlab');
    expect(zshScript('overlab')).toMatch(/^#compdef overlab/);
    expect(fishScript('overlab')).toContain('overlab complete -- $words $current');
    expect(fishScript('overlab')).toContain("complete -c overlab -f -a '(__overlab_complete)'");
  });
});

describe('the engine a Tab asks', () => {
  it('is the one --context names on the line, when it does', () => {
    expect(contextOnLine(['--context', 'far', 'verify', ''])).toBe('far');
    expect(contextOnLine(['verify', '--context=far', ''])).toBe('far');
    // Still being typed: not a context yet.
    expect(contextOnLine(['verify', '--context', ''])).toBeUndefined();
    expect(contextOnLine(['verify', ''])).toBeUndefined();
  });
});
