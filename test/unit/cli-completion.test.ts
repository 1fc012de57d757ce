import { describe, expect, it } from 'vitest';
import { bashScript, complete, zshScript, type CommandInfo, type LabWorld } from '../../src/cli/completion.js';

const commands: CommandInfo[] = [
  { id: 'up', flags: ['--dry-run', '--json'], args: ['spec'] },
  { id: 'down', flags: ['--all', '--json'], args: ['lab-or-spec'] },
  { id: 'exec', flags: ['--json'], args: ['lab', 'target'] },
  { id: 'logs', flags: ['--tail'], args: ['lab', 'host'] },
  { id: 'node add', flags: ['--pods'], args: ['lab', 'none'] },
  { id: 'node rm', flags: [], args: ['lab', 'host'] },
  { id: 'run', flags: ['--junit'], args: ['specs'] },
  { id: 'complete', flags: [], args: [], hidden: true },
];

const world: LabWorld = {
  labs: async () => ['host-gw', 'flannel-vxlan'],
  members: async (lab) =>
    lab === 'host-gw' ? { hosts: ['host1', 'host2'], pods: ['host1/pod1', 'host2/pod1'], nodes: ['router'] } : { hosts: [], pods: [], nodes: [] },
  specFiles: async (prefix) => ['labs/host-gw.yaml', 'labs/flannel-vxlan.yaml'].filter((f) => f.startsWith(prefix)),
};

const at = (...words: string[]) => complete(words, commands, world);

describe('completion', () => {
  it('offers commands, then sub-commands, never hidden ones', async () => {
    expect(await at('')).toEqual(['down', 'exec', 'logs', 'node', 'run', 'up']);
    expect(await at('node', '')).toEqual(['add', 'rm']);
    expect(await at('co')).toEqual([]);
  });

  it('offers lab names, and spec files where a spec is allowed', async () => {
    expect(await at('exec', '')).toEqual(['flannel-vxlan', 'host-gw']);
    expect(await at('down', 'h')).toEqual(['host-gw']);
    expect(await at('down', 'labs/f')).toEqual(['labs/flannel-vxlan.yaml']);
    expect(await at('up', 'labs/h')).toEqual(['labs/host-gw.yaml']);
    expect(await at('run', 'labs/host-gw.yaml', 'labs/f')).toEqual(['labs/flannel-vxlan.yaml']);
  });

  it('offers the hosts, pods and nodes of the lab named before', async () => {
    expect(await at('exec', 'host-gw', 'host1')).toEqual(['host1', 'host1/pod1']);
    expect(await at('exec', 'host-gw', '')).toEqual(['host1', 'host1/pod1', 'host2', 'host2/pod1', 'router']);
    expect(await at('node', 'rm', 'host-gw', '')).toEqual(['host1', 'host2']);
    expect(await at('node', 'add', 'host-gw', '')).toEqual([]);
  });

  it('offers flags for a dash, and nothing after `--`', async () => {
    expect(await at('down', '--')).toEqual(['--all', '--json']);
    expect(await at('exec', 'host-gw', 'host1', '--', '')).toEqual([]);
  });

  it('writes scripts that call back `complete` for bash and zsh', () => {
    expect(bashScript('overlab')).toContain('overlab complete --');
    expect(bashScript('overlab')).toContain('complete -o default -F _overlab_complete overlab');
    expect(zshScript('overlab')).toMatch(/^#compdef overlab/);
  });
});
