// A trace to a Service: `svc/<name>[:<port>]` (or `svc/<namespace>/<name>`), or a ClusterIP
// itself. The probe goes to the ClusterIP on the Service's port with the Service's protocol,
// unless --proto and --port say otherwise; a Service answers only on its ports, so an ICMP echo
// to it is refused as bad input rather than traced into silence. Pure.
import { inputError } from '../base/errors.js';
import type { ResolvedLab, ResolvedService, ResolvedServicePort } from '../plan/resolved-lab.js';
import { findService } from '../plan/service-plan.js';
import { cidrContains, isValidIpv4 } from '../shared/ipv4.js';
import type { TraceOptions, TraceProto } from './trace-result.js';

export interface ServiceTraceTarget {
  service: ResolvedService;
  port: ResolvedServicePort;
  /** The ClusterIP. */
  address: string;
}

export const SERVICE_PREFIX = 'svc/';

/** The Service a trace target names, if it names one; `port` picks among a ClusterIP's ports. */
export function serviceTraceTarget(lab: ResolvedLab, to: string, port?: number): ServiceTraceTarget | undefined {
  if (to.startsWith(SERVICE_PREFIX)) {
    if (!lab.services) throw inputError(`lab ${lab.name} has no Services`, 'trace to a node or pod instead');
    const found = findService(lab, to.slice(SERVICE_PREFIX.length));
    return { ...found, address: found.service.clusterIP };
  }
  if (!isValidIpv4(to) || !lab.services || !cidrContains(lab.services.serviceCIDR, to)) return undefined;
  const service = lab.services.services.find((s) => s.clusterIP === to);
  if (!service) throw inputError(`no Service of lab ${lab.name} has ClusterIP ${to}`, `its Services: ${lab.services.services.map((s) => `${s.name} ${s.clusterIP}`).join(', ') || 'none'}`);
  const chosen = port === undefined ? service.ports[0] : service.ports.find((p) => p.port === port);
  if (!chosen) throw inputError(`Service ${service.name} (${to}) has no port ${port}`, `its ports: ${service.ports.map((p) => p.port).join(', ')}`);
  return { service, port: chosen, address: to };
}

/** What the user gave on the command line (undefined: not given). */
export interface GivenTraceOptions {
  proto?: TraceProto;
  port?: number;
  size?: number;
  reply: boolean;
  static: boolean;
}

export const DEFAULT_PROTO: TraceProto = 'icmp';
export const DEFAULT_PORT = 5000;

/** The options a trace runs with: for a Service, its protocol and port unless given. */
export function traceOptionsFor(lab: ResolvedLab, to: string, given: GivenTraceOptions): TraceOptions {
  const svc = serviceTraceTarget(lab, to, given.port);
  const serviceProto: TraceProto | undefined = svc ? (svc.port.protocol === 'UDP' ? 'udp' : 'tcp') : undefined;
  const proto = given.proto ?? serviceProto ?? DEFAULT_PROTO;
  if (svc && proto === 'icmp') {
    throw inputError(`Service ${svc.service.name} answers only on its ports: kube-proxy's rules translate TCP and UDP, not ICMP echo`, `drop --proto icmp (the Service's port is ${svc.port.protocol.toLowerCase()} ${svc.port.port})`);
  }
  return {
    proto,
    port: given.port ?? svc?.port.port ?? DEFAULT_PORT,
    ...(given.size !== undefined ? { size: given.size } : {}),
    reply: given.reply,
    static: given.static,
  };
}
