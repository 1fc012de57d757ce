// What a pod's server answers and what the asking probe prints, in one place so the server, the
// probe and overlab's readers agree. A server answers every request with one JSON line saying
// who it is (pod, host, the address and port the request reached) and whom it saw asking (peer):
// that last part is how a masquerade shows up at the far end. Node built-ins only; pure.

export type ServeProtocol = 'tcp' | 'udp';

export interface ServerReply {
  pod: string;
  host: string;
  protocol: ServeProtocol;
  /** The address and port the request arrived at (the pod's own, after any DNAT). */
  addr: string;
  port: number;
  /** Whom the server saw asking (after any masquerade). */
  peer: string;
  peerPort: number;
}

export function replyLine(reply: ServerReply): string {
  return `${JSON.stringify(reply)}\n`;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;

/** A server's answer, or undefined when the bytes are not one (a foreign server, a cut reply). */
export function parseReply(text: string): ServerReply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (!isString(r.pod) || !isString(r.host) || !isString(r.addr) || !isString(r.peer) || !isPort(r.port) || !isPort(r.peerPort)) return undefined;
  if (r.protocol !== 'tcp' && r.protocol !== 'udp') return undefined;
  return { pod: r.pod, host: r.host, protocol: r.protocol, addr: r.addr, port: r.port, peer: r.peer, peerPort: r.peerPort };
}

/** How a request ended when nobody answered it. */
export type AskFailure = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'bad-reply' | 'error';

/** One request as the probe reports it: one JSON line each. */
export interface AskResult {
  /** 0-based request number. */
  seq: number;
  /** The probe's own address and port for this request. */
  local?: string;
  /** Milliseconds from the start of the request to the answer (or to the failure). */
  ms: number;
  reply?: ServerReply;
  failure?: AskFailure;
  /** The system's own words for a failure (ECONNREFUSED, …). */
  code?: string;
}

export function failureOf(code: string | undefined): AskFailure {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return 'error';
  }
}

export function parseAskLine(line: string): AskResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (!Number.isInteger(r.seq) || typeof r.ms !== 'number') return undefined;
  const out: AskResult = { seq: r.seq as number, ms: r.ms };
  if (isString(r.local)) out.local = r.local;
  if (r.reply !== undefined) {
    const reply = parseReply(JSON.stringify(r.reply));
    if (!reply) return undefined;
    out.reply = reply;
  }
  if (isString(r.failure)) out.failure = r.failure as AskFailure;
  if (isString(r.code)) out.code = r.code;
  return out;
}

export function parseAskOutput(text: string): AskResult[] {
  return text.split('\n').flatMap((line) => (line.trim() ? (parseAskLine(line) ?? []) : []));
}
