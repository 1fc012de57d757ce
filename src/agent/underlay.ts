// The underlay subnet a peer's PublicIP must lie in: the config's `underlayCidr`, else the subnet
// of the underlay interface's address that is this host's publicIp (one `ip -j addr` at start).

import type { AgentConfig } from './config.js';
import { type Ip4Net, formatNet, parseNet } from '../shared/ipv4.js';
import type { CommandRunner } from './kernel.js';
import { readLink } from './links.js';
import type { Logger } from './log.js';

export async function underlayNet(cfg: AgentConfig, runner: CommandRunner, log: Logger): Promise<Ip4Net | null> {
  if (cfg.underlayCidr) return parseNet(cfg.underlayCidr, false);
  const link = await readLink(runner, cfg.underlayIface);
  const a = link?.addresses.find((x) => x.ip === cfg.publicIp);
  if (!a) {
    log.warn(`the underlay subnet is unknown (no underlayCidr in the config, and ${cfg.publicIp} is not on ${cfg.underlayIface}); a peer's PublicIP is only checked to be unicast`);
    return null;
  }
  const net = parseNet(`${a.ip}/${a.prefixLen}`, false);
  log.info(`underlay: ${formatNet(net)} (from ${cfg.underlayIface}); peers' PublicIPs must lie in it`);
  return net;
}
