// The pod side, as flannel's CNI plugin / docker --bip would leave it: the bridge with
// <subnet>.1/<len>, and with ipMasq the FORWARD accepts + MASQUERADE for traffic leaving the network.

import { readFileSync, writeFileSync } from 'node:fs';
import { type Ip4Net, formatCidr, netContains, parseIp } from './ip4.js';
import { type CommandRunner, mustRun, readQuiet } from './kernel.js';
import { parseLink } from './kernel-state.js';
import type { Logger } from './log.js';
import { bridgeAddress, masqRules } from './peer-state.js';
import { ensureAddress } from './backend/kernel-sync.js';

export async function ensureBridge(runner: CommandRunner, log: Logger, bridge: string, subnet: Ip4Net, network: Ip4Net): Promise<void> {
  let link = parseLink(await readQuiet(runner, ['ip', '-j', '-d', 'link', 'show', 'dev', bridge]), await readQuiet(runner, ['ip', '-j', 'addr', 'show', 'dev', bridge]));
  if (link && link.kind !== 'bridge') throw new Error(`${bridge} exists but is a ${link.kind || 'non-bridge'} device`);
  if (!link) {
    await mustRun(runner, ['ip', 'link', 'add', bridge, 'type', 'bridge']);
    log.info(`created: ip link add ${bridge} type bridge`);
    link = parseLink(await readQuiet(runner, ['ip', '-j', '-d', 'link', 'show', 'dev', bridge]), '');
    if (!link) throw new Error(`${bridge} did not appear`);
  }
  await ensureAddress(runner, log, bridge, link.addresses, bridgeAddress(formatCidr(subnet)), (ip) => netContains(network, parseIp(ip)));
  if (!link.up) {
    await mustRun(runner, ['ip', 'link', 'set', bridge, 'up']);
    log.info(`configured: ip link set ${bridge} up`);
  }
}

export async function ensureMasquerade(runner: CommandRunner, log: Logger, network: Ip4Net): Promise<void> {
  for (const r of masqRules(formatCidr(network))) {
    const check = await runner.run(['iptables', '-t', r.table, '-C', r.chain, ...r.spec]);
    if (check.code === 0) continue;
    if (check.code === 127) {
      log.warn('iptables not found; skipping the ipMasq rules');
      return;
    }
    const argv = ['iptables', '-t', r.table, '-A', r.chain, ...r.spec];
    await mustRun(runner, argv);
    log.info(`configured: ${argv.join(' ')}`);
  }
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
