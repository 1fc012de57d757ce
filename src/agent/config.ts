// The agent's own config file (/etc/overlab/agent.json): validated strictly, with clear errors.

import { isIp, netContains, parseNet, parseIp } from '../shared/ipv4.js';
import { linuxIfnameProblem } from '../shared/interface-names.js';

export interface AgentConfig {
  /** Host name (for logs and stats). */
  host: string;
  /** Underlay address this host is reached on; becomes the lease's PublicIP. */
  publicIp: string;
  /**
   * The underlay's subnet, e.g. "192.168.50.0/24": a peer lease's PublicIP must lie in it. Unset:
   * the subnet of the underlay interface's address that is publicIp.
   */
  underlayCidr?: string;
  /**
   * A routed underlay's other segments (racks), e.g. ["192.168.60.0/24"]: a peer's PublicIP may
   * lie in any of them too. Unset: the underlay is one segment.
   */
  otherSegmentCidrs?: string[];
  underlayIface: string;
  underlayMtu: number;
  /** e.g. ["http://192.168.50.250:2379"] — etcd v3 JSON gateway. */
  etcdEndpoints: string[];
  /** etcd key prefix, flannel's default "/coreos.com/network". */
  prefix: string;
  leaseTtlSeconds: number;
  logFile: string;
  /** Pod bridge: "docker0" or "cni0". */
  bridge: string;
  /** FLANNEL_IPMASQ and the masquerade rules. Default false (flannel's default). */
  ipMasq: boolean;
  /** Default /run/flannel/subnet.env */
  subnetEnvFile: string;
  /** Default /run/overlab/agent-stats.json */
  statsFile: string;
  statsIntervalMs: number;
  /** Default /run/overlab/agent.pid */
  pidFile: string;
  /** TCP port on publicIp answering `GET /status` (status-server.ts); unset: no listener. */
  statusPort?: number;
  /** Path of the tun-open helper (udp backend). Default: next to main.js, then /opt/overlab/bin/tun-open, then PATH. */
  tunOpen?: string;
  /** How the udp backend reads the TUN: "poll" (epoll via a libuv pipe handle, default) or "threadpool" (blocking fs.read). */
  tunIo: 'poll' | 'threadpool';
  /**
   * Who forwards the udp backend's packets: "native" (the udp-proxy helper, C, like flannel's
   * proxy.c) or "node" (the agent itself). Unset: native when the helper is found, else node.
   */
  udpDataPath?: 'native' | 'node';
  /** Path of the udp-proxy helper. Default: next to main.js, then /opt/overlab/bin/udp-proxy, then PATH. */
  udpProxy?: string;
}

export class ConfigError extends Error {}

const DEFAULTS = {
  prefix: '/coreos.com/network',
  leaseTtlSeconds: 86400,
  underlayMtu: 1500,
  underlayIface: 'eth0',
  logFile: '/var/log/overlab-agent.log',
  bridge: 'docker0',
  ipMasq: false,
  subnetEnvFile: '/run/flannel/subnet.env',
  statsFile: '/run/overlab/agent-stats.json',
  statsIntervalMs: 2000,
  pidFile: '/run/overlab/agent.pid',
  tunIo: 'poll' as const,
};

const KNOWN = new Set([
  'host',
  'publicIp',
  'underlayCidr',
  'otherSegmentCidrs',
  'underlayIface',
  'underlayMtu',
  'etcdEndpoints',
  'prefix',
  'leaseTtlSeconds',
  'logFile',
  'bridge',
  'ipMasq',
  'subnetEnvFile',
  'statsFile',
  'statsIntervalMs',
  'pidFile',
  'statusPort',
  'tunOpen',
  'tunIo',
  'udpDataPath',
  'udpProxy',
]);

/** Linux's rule (src/shared/interface-names.ts), narrowed to plain words for `ip`. */
const isIfname = (name: string) => /^[A-Za-z0-9_.-]+$/.test(name) && linuxIfnameProblem(name) === undefined;

/** Validates a parsed JSON value; throws ConfigError listing every problem. */
export function validateAgentConfig(raw: unknown): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('agent config must be a JSON object');
  const o = raw as Record<string, unknown>;
  const errs: string[] = [];
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) errs.push(`unknown key "${k}"`);

  const str = (k: string, def?: string): string => {
    const v = o[k];
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v === '') {
      errs.push(`"${k}" must be a non-empty string`);
      return '';
    }
    return v;
  };
  const int = (k: string, def: number | undefined, min: number, max: number): number => {
    const v = o[k];
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errs.push(`"${k}" must be an integer in [${min}, ${max}]`);
      return def ?? min;
    }
    return v;
  };

  const host = str('host');
  const publicIp = str('publicIp');
  if (publicIp && !isIp(publicIp)) errs.push(`"publicIp" ${JSON.stringify(publicIp)} is not an IPv4 address`);
  let underlayCidr: string | undefined;
  if (o.underlayCidr !== undefined) {
    const v = str('underlayCidr');
    try {
      const n = parseNet(v, false);
      if (n.prefixLen < 8 || n.prefixLen > 30) errs.push(`"underlayCidr" ${JSON.stringify(v)} must have a prefix length in [8, 30]`);
      else if (publicIp && isIp(publicIp) && !netContains(n, parseIp(publicIp))) errs.push(`"publicIp" ${publicIp} is outside "underlayCidr" ${v}`);
      else underlayCidr = v;
    } catch {
      if (v) errs.push(`"underlayCidr" ${JSON.stringify(v)} is not an IPv4 CIDR like "192.168.50.0/24"`);
    }
  }
  const otherSegmentCidrs: string[] = [];
  if (o.otherSegmentCidrs !== undefined) {
    const v = o.otherSegmentCidrs;
    if (!Array.isArray(v) || v.length > 16) errs.push('"otherSegmentCidrs" must be a list of at most 16 IPv4 CIDRs');
    else {
      for (const c of v) {
        try {
          if (typeof c !== 'string') throw new Error('not a string');
          const n = parseNet(c, false);
          if (n.prefixLen < 8 || n.prefixLen > 30) errs.push(`"otherSegmentCidrs" entry ${JSON.stringify(c)} must have a prefix length in [8, 30]`);
          else otherSegmentCidrs.push(c);
        } catch {
          errs.push(`"otherSegmentCidrs" entry ${JSON.stringify(c)} is not an IPv4 CIDR like "192.168.60.0/24"`);
        }
      }
    }
  }
  const underlayIface = str('underlayIface', DEFAULTS.underlayIface);
  if (underlayIface && !isIfname(underlayIface)) errs.push(`"underlayIface" ${JSON.stringify(underlayIface)} is not an interface name`);
  const underlayMtu = int('underlayMtu', DEFAULTS.underlayMtu, 576, 65535);
  let etcdEndpoints: string[] = [];
  const ep = o.etcdEndpoints;
  if (!Array.isArray(ep) || ep.length === 0) {
    errs.push('"etcdEndpoints" must be a non-empty array of http:// URLs');
  } else {
    for (const e of ep) {
      if (typeof e !== 'string' || !/^https?:\/\/[^/\s]+\/?$/.test(e)) errs.push(`etcd endpoint ${JSON.stringify(e)} must look like http://192.168.50.250:2379`);
    }
    etcdEndpoints = ep.filter((e): e is string => typeof e === 'string').map((e) => e.replace(/\/+$/, ''));
  }
  const prefix = str('prefix', DEFAULTS.prefix);
  if (prefix && !prefix.startsWith('/')) errs.push('"prefix" must start with "/"');
  const leaseTtlSeconds = int('leaseTtlSeconds', DEFAULTS.leaseTtlSeconds, 5, 10 * 365 * 86400);
  const logFile = str('logFile', DEFAULTS.logFile);
  const bridge = str('bridge', DEFAULTS.bridge);
  if (bridge && !isIfname(bridge)) errs.push(`"bridge" ${JSON.stringify(bridge)} is not an interface name`);
  let ipMasq = DEFAULTS.ipMasq;
  if (o.ipMasq !== undefined) {
    if (typeof o.ipMasq !== 'boolean') errs.push('"ipMasq" must be true or false');
    else ipMasq = o.ipMasq;
  }
  const subnetEnvFile = str('subnetEnvFile', DEFAULTS.subnetEnvFile);
  const statsFile = str('statsFile', DEFAULTS.statsFile);
  const statsIntervalMs = int('statsIntervalMs', DEFAULTS.statsIntervalMs, 100, 3_600_000);
  const pidFile = str('pidFile', DEFAULTS.pidFile);
  const statusPort = o.statusPort === undefined ? undefined : int('statusPort', undefined, 1, 65535);
  let tunOpen: string | undefined;
  if (o.tunOpen !== undefined) tunOpen = str('tunOpen');
  let tunIo: AgentConfig['tunIo'] = DEFAULTS.tunIo;
  if (o.tunIo !== undefined) {
    if (o.tunIo !== 'poll' && o.tunIo !== 'threadpool') errs.push('"tunIo" must be "poll" or "threadpool"');
    else tunIo = o.tunIo;
  }
  let udpDataPath: AgentConfig['udpDataPath'];
  if (o.udpDataPath !== undefined) {
    if (o.udpDataPath !== 'native' && o.udpDataPath !== 'node') errs.push('"udpDataPath" must be "native" or "node"');
    else udpDataPath = o.udpDataPath;
  }
  let udpProxy: string | undefined;
  if (o.udpProxy !== undefined) udpProxy = str('udpProxy');
  if (errs.length > 0) throw new ConfigError(`bad agent config:\n  - ${errs.join('\n  - ')}`);
  return {
    host,
    publicIp,
    ...(underlayCidr ? { underlayCidr } : {}),
    ...(otherSegmentCidrs.length ? { otherSegmentCidrs } : {}),
    underlayIface,
    underlayMtu,
    etcdEndpoints,
    prefix,
    leaseTtlSeconds,
    logFile,
    bridge,
    ipMasq,
    subnetEnvFile,
    statsFile,
    statsIntervalMs,
    pidFile,
    ...(statusPort !== undefined ? { statusPort } : {}),
    ...(tunOpen ? { tunOpen } : {}),
    tunIo,
    ...(udpDataPath ? { udpDataPath } : {}),
    ...(udpProxy ? { udpProxy } : {}),
  };
}

export function parseAgentConfig(text: string, source = 'agent config'): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  return validateAgentConfig(raw);
}
