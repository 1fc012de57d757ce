// The flannel CNI plugin, as overlab's shim: what github.com/flannel-io/cni-plugin does, in Node
// (Debian packages the reference plugins but not flannel's). It is a meta-plugin: on ADD it reads
// /run/flannel/subnet.env, builds a `bridge` config with host-local IPAM from it and its own
// `delegate` fields, keeps that config in /var/lib/cni/flannel/<containerID> and runs the
// delegate with the same CNI environment, printing the delegate's result; on DEL it runs the
// delegate with the kept config and removes the file. Node built-ins and src/shared/ only: the
// build bundles it (with what it imports) into the one file a CNI host gets. docs/cni.md explains it.
//
// The I/O goes through `CniIo`, so unit tests run the whole ADD and DEL with fakes.

import { linuxIfnameProblem } from '../shared/interface-names.js';
import { cidrOf, formatCidr, parseCidrParts } from '../shared/ipv4.js';
export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';
export const DEFAULT_DATA_DIR = '/var/lib/cni/flannel';
/** skel's version.All, and the version it reports. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];
export const CURRENT_VERSION = '1.0.0';

/** CNI's well-known error codes (SPEC.md "Error"), and skel's catch-all. */
export const CNI_ERR = { incompatibleVersion: 1, invalidEnv: 4, decoding: 6, invalidConfig: 7, internal: 999 } as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }
}

type Json = { [key: string]: unknown };

/** The flannel plugin's own config (its NetConf): the CNI fields plus subnetFile, dataDir,
 * delegate, ipam and runtimeConfig. */
export interface FlannelNetConf {
  name: string;
  cniVersion: string;
  subnetFile: string;
  dataDir: string;
  delegate?: Json;
  ipam?: Json;
  runtimeConfig?: Json;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function loadFlannelNetConf(stdin: string): FlannelNetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_ERR.decoding, `failed to load netconf: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new CniError(CNI_ERR.decoding, 'failed to load netconf: not a JSON object');
  const str = (k: string, d: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : d);
  const obj = (k: string) => (raw[k] === undefined || raw[k] === null ? undefined : isObject(raw[k]) ? (raw[k] as Json) : badField(k));
  const conf: FlannelNetConf = {
    name: str('name', ''),
    cniVersion: str('cniVersion', ''),
    subnetFile: str('subnetFile', DEFAULT_SUBNET_FILE),
    dataDir: str('dataDir', DEFAULT_DATA_DIR),
  };
  const delegate = obj('delegate');
  const ipam = obj('ipam');
  const runtimeConfig = obj('runtimeConfig');
  if (delegate) conf.delegate = { ...delegate };
  if (ipam) conf.ipam = { ...ipam };
  if (runtimeConfig) conf.runtimeConfig = runtimeConfig;
  return conf;
}

function badField(key: string): never {
  throw new CniError(CNI_ERR.decoding, `failed to load netconf: "${key}" must be an object`);
}

// ---------------------------------------------------------------- subnet.env (flannel's reading)

export interface FlannelEnv {
  /** FLANNEL_NETWORK, de-duplicated, as networks (a.b.c.0/len). */
  networks: string[];
  /** FLANNEL_SUBNET's network (flannel parses 10.244.1.1/24 into 10.244.1.0/24). */
  subnet?: string;
  mtu?: number;
  ipMasq?: boolean;
}

/** Go's net.ParseCIDR for IPv4: the network the address belongs to, as a string. */
export function parseCidrNetwork(text: string): string | undefined {
  const parts = parseCidrParts(text);
  return parts && formatCidr(cidrOf(parts.ip, parts.prefix));
}

/** flannel's loadFlannelSubnetEnv: KEY=value lines (split at the first "="), unknown keys
 * ignored, then an error naming every missing variable. IPv6 variables are refused: overlab's
 * labs are IPv4 and its agent never writes them. */
export function parseFlannelEnv(text: string, file: string): FlannelEnv {
  const env: FlannelEnv = { networks: [] };
  let networkSeen = false;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? undefined : line.slice(eq + 1);
    const need = (): string => {
      if (value === undefined) throw new CniError(CNI_ERR.internal, `${file}: ${key} has no value`);
      return value;
    };
    switch (key) {
      case 'FLANNEL_NETWORK': {
        networkSeen = true;
        env.networks = [];
        for (const cidr of need().split(',')) {
          const net = parseCidrNetwork(cidr);
          if (!net) throw new CniError(CNI_ERR.internal, `invalid CIDR address: ${cidr}`);
          if (!env.networks.includes(net)) env.networks.push(net);
        }
        break;
      }
      case 'FLANNEL_SUBNET': {
        const net = parseCidrNetwork(need());
        if (!net) throw new CniError(CNI_ERR.internal, `invalid CIDR address: ${value}`);
        env.subnet = net;
        break;
      }
      case 'FLANNEL_MTU': {
        const v = need();
        if (!/^[0-9]{1,10}$/.test(v) || Number(v) > 0xffffffff) throw new CniError(CNI_ERR.internal, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
        env.mtu = Number(v);
        break;
      }
      case 'FLANNEL_IPMASQ':
        env.ipMasq = need() === 'true';
        break;
      case 'FLANNEL_IPV6_NETWORK':
      case 'FLANNEL_IPV6_SUBNET':
        throw new CniError(CNI_ERR.internal, `${file}: ${key}: IPv6 is not supported by overlab's flannel shim`);
    }
  }
  const missing: string[] = [];
  if (!networkSeen || env.networks.length === 0) missing.push('FLANNEL_NETWORK', 'FLANNEL_IPV6_NETWORK');
  if (env.subnet === undefined) missing.push('FLANNEL_SUBNET', 'FLANNEL_IPV6_SUBNET');
  if (env.mtu === undefined) missing.push('FLANNEL_MTU');
  if (env.ipMasq === undefined) missing.push('FLANNEL_IPMASQ');
  if (missing.length) throw new CniError(CNI_ERR.internal, `${file} is missing ${missing.join(', ')}`);
  return env;
}

// ---------------------------------------------------------------- the delegate (doCmdAdd)

const has = (m: Json, k: string) => Object.prototype.hasOwnProperty.call(m, k);

/** The delegate config flannel builds for ADD (cmdAdd + doCmdAdd + getDelegateIPAM). */
export function buildDelegate(conf: FlannelNetConf, env: FlannelEnv): Json {
  const delegate: Json = conf.delegate ? { ...conf.delegate } : {};
  if (conf.delegate) {
    if (has(delegate, 'type') && typeof delegate.type !== 'string') throw new CniError(CNI_ERR.internal, "'delegate' dictionary, if present, must have (string) 'type' field");
    if (has(delegate, 'name')) throw new CniError(CNI_ERR.internal, "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
    if (has(delegate, 'ipam')) throw new CniError(CNI_ERR.internal, "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
  }
  if (conf.runtimeConfig) delegate.runtimeConfig = conf.runtimeConfig;
  delegate.name = conf.name;
  if (!has(delegate, 'type')) delegate.type = 'bridge';
  if (!has(delegate, 'ipMasq')) delegate.ipMasq = !env.ipMasq; // flannel masquerades itself, or the bridge must
  if (!has(delegate, 'mtu')) delegate.mtu = env.mtu;
  if (delegate.type === 'bridge' && !has(delegate, 'isGateway')) delegate.isGateway = true;
  if (conf.cniVersion !== '') delegate.cniVersion = conf.cniVersion;

  const ipam: Json = conf.ipam ? { ...conf.ipam } : {};
  if (!has(ipam, 'type')) ipam.type = 'host-local';
  ipam.ranges = env.subnet ? [[{ subnet: env.subnet }]] : [];
  const given = Array.isArray(ipam.routes) ? (ipam.routes as unknown[]) : [];
  ipam.routes = [...given, ...env.networks.map((dst) => ({ dst }))];
  delegate.ipam = ipam;
  return delegate;
}

/** Go's json.Marshal of a map: keys sorted at every level, no spaces. */
export function goJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v;
  return JSON.stringify(sort(value));
}

// ---------------------------------------------------------------- running it (skel + invoke)

/** Everything the plugin touches, so tests can give it fakes. */
export interface CniIo {
  env: Record<string, string | undefined>;
  readFile(path: string): string;
  /** Creates the parent directory (0700) and writes (0600), synced. */
  writeFileSynced(path: string, content: string): void;
  removeFile(path: string): void;
  exists(path: string): boolean;
  /** Runs an executable (no shell) with this environment and stdin. */
  exec(path: string, env: Record<string, string | undefined>, stdin: string): { status: number | null; stdout: string; stderr: string };
  stderr(text: string): void;
}

export interface PluginOutcome {
  exitCode: number;
  stdout: string;
}

/** libcni's ValidateContainerID: it names a file under dataDir, so nothing else is let in. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;


/** skel's checks on the environment for a command. */
function checkEnv(command: string, env: CniIo['env']): void {
  const required = command === 'ADD' || command === 'CHECK' ? ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'] : ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'];
  const missing = required.filter((k) => !env[k]);
  if (missing.length) throw new CniError(CNI_ERR.invalidEnv, `required env variables [${missing.join(',')}] missing`);
  const id = env.CNI_CONTAINERID!;
  if (!CONTAINER_ID.test(id)) throw new CniError(CNI_ERR.invalidEnv, `invalid characters in containerID`, id);
  const ifProblem = linuxIfnameProblem(env.CNI_IFNAME!);
  if (ifProblem) throw new CniError(CNI_ERR.invalidEnv, ifProblem, env.CNI_IFNAME);
}

/** invoke.FindInPath: the first directory of CNI_PATH that has the plugin. */
export function findInPath(type: string, cniPath: string, exists: (p: string) => boolean): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(type)) throw new CniError(CNI_ERR.internal, `invalid plugin name ${JSON.stringify(type)}`);
  const dirs = cniPath.split(':').filter(Boolean);
  for (const dir of dirs) if (exists(`${dir}/${type}`)) return `${dir}/${type}`;
  throw new CniError(CNI_ERR.internal, `failed to find plugin ${JSON.stringify(type)} in path [${dirs.join(' ')}]`);
}

/** invoke.DelegateAdd / DelegateDel: the delegate with this process's environment and
 * CNI_COMMAND set; a failure carries the delegate's own CNI error message. */
function delegate(io: CniIo, command: 'ADD' | 'DEL', type: string, config: string): string {
  const path = findInPath(type, io.env.CNI_PATH ?? '', (p) => io.exists(p));
  const r = io.exec(path, { ...io.env, CNI_COMMAND: command }, config);
  if (r.status === 0) return r.stdout;
  try {
    const e = JSON.parse(r.stdout) as { msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') throw new CniError(CNI_ERR.internal, typeof e.details === 'string' && e.details ? `${e.msg}; ${e.details}` : e.msg);
  } catch (e) {
    if (e instanceof CniError) throw e;
    // not a CNI error object: invoke reports the raw output
  }
  const raw = r.stderr.trim() || r.stdout.trim() || `exit ${r.status ?? 'by signal'}`;
  throw new CniError(CNI_ERR.internal, `netplugin failed: ${JSON.stringify(raw)}`);
}

function scratchPath(conf: FlannelNetConf, containerId: string): string {
  return `${conf.dataDir.replace(/\/+$/, '')}/${containerId}`;
}

function cmdAdd(io: CniIo, stdin: string): string {
  const conf = loadFlannelNetConf(stdin);
  let env: FlannelEnv;
  try {
    env = parseFlannelEnv(io.readFile(conf.subnetFile), conf.subnetFile);
  } catch (e) {
    const why = e instanceof CniError ? e.message : (e as Error).message;
    throw new CniError(CNI_ERR.internal, `failed to load flannel 'subnet.env' file: ${why}. Check the flannel pod log for this node.`);
  }
  const config = goJson(buildDelegate(conf, env));
  io.stderr(`delegateAdd: netconf sent to delegate plugin:\n${config}`);
  io.writeFileSynced(scratchPath(conf, io.env.CNI_CONTAINERID!), config); // kept for DEL
  let out: string;
  try {
    out = delegate(io, 'ADD', (JSON.parse(config) as { type: string }).type, config);
  } catch (e) {
    throw new CniError(CNI_ERR.internal, `failed to delegate add: ${(e as Error).message}`);
  }
  try {
    return JSON.stringify(JSON.parse(out), null, 4); // result.Print(): the delegate's result
  } catch {
    throw new CniError(CNI_ERR.decoding, `failed to delegate add: the delegate printed no JSON result`);
  }
}

function cmdDel(io: CniIo, stdin: string): void {
  const conf = loadFlannelNetConf(stdin);
  const path = scratchPath(conf, io.env.CNI_CONTAINERID!);
  let saved: string;
  try {
    saved = io.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // already gone: DEL succeeds
    throw e;
  }
  let type: unknown;
  try {
    type = (JSON.parse(saved) as { type?: unknown }).type;
  } catch (e) {
    // flannel: the interface stays on the bridge until the node reboots; DEL succeeds.
    io.stderr(`failed to parse netconf: ${(e as Error).message}`);
    io.removeFile(path);
    return;
  }
  try {
    delegate(io, 'DEL', typeof type === 'string' ? type : '', saved);
  } finally {
    // flannel's doCmdDel removes the kept config whether or not the delegate's DEL succeeded
    // (its deferred cleanup sees no error: the delegate's is returned, never assigned).
    io.removeFile(path);
  }
}

function checkVersion(stdin: string): string {
  let version: string;
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    version = typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
  if (version !== '' && !SUPPORTED_VERSIONS.includes(version)) {
    throw new CniError(CNI_ERR.incompatibleVersion, 'incompatible CNI versions', `config is ${JSON.stringify(version)}, plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`);
  }
  return version;
}

/** skel.PluginMain: dispatch on CNI_COMMAND; an error is printed as CNI's error object. */
export function runFlannelPlugin(io: CniIo, stdin: string): PluginOutcome {
  const command = io.env.CNI_COMMAND ?? '';
  let version = '';
  try {
    if (command === 'VERSION') return { exitCode: 0, stdout: JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS }) };
    if (!['ADD', 'DEL', 'CHECK'].includes(command)) {
      throw new CniError(CNI_ERR.invalidEnv, command === '' ? 'required env variables [CNI_COMMAND] missing' : `unknown CNI_COMMAND: ${command}`);
    }
    checkEnv(command, io.env);
    version = checkVersion(stdin);
    if (command === 'ADD') return { exitCode: 0, stdout: cmdAdd(io, stdin) };
    if (command === 'DEL') cmdDel(io, stdin);
    return { exitCode: 0, stdout: '' }; // CHECK: flannel's is a no-op
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CNI_ERR.internal, (e as Error).message);
    const body: Json = { cniVersion: version || CURRENT_VERSION, code: err.code, msg: err.message };
    if (err.details) body.details = err.details;
    return { exitCode: 1, stdout: JSON.stringify(body, null, 4) };
  }
}
