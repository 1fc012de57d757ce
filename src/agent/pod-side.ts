// The pod side, as flannel's CNI plugin / docker --bip would leave it: the bridge with
// <subnet>.1/<len>, and with ipMasq the FORWARD accepts + MASQUERADE for traffic leaving the network.

import { readFileSync, writeFileSync } from 'node:fs';
import { type Ip4Net, formatNet, netContains, parseIp } from '../shared/ipv4.js';
import type { CommandRunner } from './kernel.js';
import { configure, deviceCommands, readLink } from './links.js';
import type { Logger } from './log.js';
import { type IptablesRule, bridgeAddress, masqRules } from '../shared/peer-state.js';

export async function ensureBridge(runner: CommandRunner, log: Logger, bridge: string, subnet: Ip4Net, network: Ip4Net): Promise<void> {
  const link = await readLink(runner, bridge);
  if (link && link.kind !== 'bridge') throw new Error(`${bridge} exists but is a ${link.kind || 'non-bridge'} device`);
  const address = bridgeAddress(formatNet(subnet));
  // absent: create it, address it and bring it up in the same batch
  const commands = link
    ? deviceCommands(link, { address, isManaged: (ip) => netContains(network, parseIp(ip)), up: true })
    : [['ip', 'link', 'add', bridge, 'type', 'bridge'], ['ip', 'addr', 'replace', address, 'dev', bridge], ['ip', 'link', 'set', bridge, 'up']];
  await configure(runner, log, commands);
}

/**
 * The rules in one read (`iptables-save`) and, when some are missing, one write
 * (`iptables-restore --noflush`, which appends and leaves every other rule alone). iptables-save
 * prints a rule as `-A <chain> <spec>` in the form masqRules() writes it.
 */
export async function ensureMasquerade(runner: CommandRunner, log: Logger, network: Ip4Net): Promise<void> {
  const rules = masqRules(formatNet(network));
  const saved = await runner.run(['iptables-save']);
  if (saved.code === 127) {
    log.warn('iptables not found; skipping the ipMasq rules');
    return;
  }
  if (saved.code !== 0) throw new Error(`iptables-save: exit ${saved.code}: ${saved.stderr.trim()}`);
  const present = savedRules(saved.stdout);
  const missing = rules.filter((r) => !present.has(ruleLine(r)));
  if (missing.length === 0) return;
  const tables = [...new Set(missing.map((r) => r.table))];
  const input = tables.flatMap((t) => [`*${t}`, ...missing.filter((r) => r.table === t).map((r) => `-A ${r.chain} ${r.spec.join(' ')}`), 'COMMIT']).join('\n') + '\n';
  const restored = await runner.run(['iptables-restore', '--noflush'], { input });
  if (restored.code !== 0) throw new Error(`iptables-restore: exit ${restored.code}: ${restored.stderr.trim()}`);
  for (const r of missing) log.info(`configured: iptables -t ${r.table} -A ${r.chain} ${r.spec.join(' ')}`);
}

function ruleLine(r: IptablesRule): string {
  return `${r.table} -A ${r.chain} ${r.spec.join(' ')}`;
}

/** `<table> -A <chain> <spec>` for every rule in iptables-save output. */
export function savedRules(text: string): Set<string> {
  const out = new Set<string>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith('-A ')) out.add(`${table} ${line.replace(/\s+/g, ' ')}`);
  }
  return out;
}

/** Packets must be routed between bridge, flannel device and eth0. */
export function ensureIpForward(log: Logger, path = '/proc/sys/net/ipv4/ip_forward'): void {
  try {
    if (readFileSync(path, 'utf8').trim() === '1') return;
    writeFileSync(path, '1\n');
    log.info('configured: sysctl net.ipv4.ip_forward=1');
  } catch (e) {
    log.warn(`net.ipv4.ip_forward is off and cannot be set (${(e as Error).message}); start the container with --sysctl net.ipv4.ip_forward=1`);
  }
}

/**
 * udp backend: the ICMP errors the agent writes into flannel0 carry `<subnet>.0`, an address of
 * this host, as source; the kernel drops such packets as martians unless accept_local is on.
 * Returns true when it is on (per device or via "all").
 */
export function ensureAcceptLocal(log: Logger, dev: string, root = '/proc/sys/net/ipv4/conf'): boolean {
  const read = (k: string): string => {
    try {
      return readFileSync(`${root}/${k}/accept_local`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  if (read(dev) === '1' || read('all') === '1') return true;
  try {
    writeFileSync(`${root}/${dev}/accept_local`, '1\n');
    log.info(`configured: sysctl net.ipv4.conf.${dev}.accept_local=1 (so ICMP errors from the agent are not dropped as martians)`);
    return true;
  } catch (e) {
    log.warn(
      `cannot set net.ipv4.conf.${dev}.accept_local=1 (${(e as Error).message}); ICMP net-unreachable/time-exceeded written into ${dev} will be dropped as martians. Start the host container with --sysctl net.ipv4.conf.all.accept_local=1`,
    );
    return false;
  }
}
