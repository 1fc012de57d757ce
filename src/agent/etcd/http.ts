// etcd v3 client over the JSON gRPC gateway (etcd 3.4: /v3/kv/*, /v3/lease/*, /v3/watch).
// Node built-ins only (node:http / node:https), so it runs on Node 18 inside the lab hosts.

import http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import {
  type Compare,
  type EtcdClient,
  EtcdRequestError,
  EtcdUnavailableError,
  type KeyValue,
  type RangeResult,
  type TxnOp,
  type TxnResult,
  WatchCompactedError,
  type WatchCallbacks,
  type WatchEvent,
  type Watcher,
  prefixRangeEnd,
} from './types.js';
import { JsonObjectSplitter } from './json-stream.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const unb64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
const num = (v: unknown): number => (v === undefined || v === null || v === '' ? 0 : Number(v));
/** A JSON value as text: strings as they are, anything else as JSON (never "[object Object]"). */
const jsonText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const str = (v: unknown): string => (v === undefined || v === null || v === '' ? '0' : jsonText(v));

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

export function decodeKv(kv: RawKv): KeyValue {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: num(kv.create_revision),
    modRevision: num(kv.mod_revision),
    version: num(kv.version),
    lease: str(kv.lease),
  };
}

function rangeBody(key: string, prefix?: boolean): Record<string, string> {
  const k = Buffer.from(key);
  const body: Record<string, string> = { key: b64(k) };
  if (prefix) body.range_end = b64(prefixRangeEnd(k));
  return body;
}

function compareBody(c: Compare): Record<string, unknown> {
  const base: Record<string, unknown> = { key: b64(c.key), target: c.target, result: c.result };
  switch (c.target) {
    case 'CREATE':
      base.create_revision = String(c.revision);
      break;
    case 'MOD':
      base.mod_revision = String(c.revision);
      break;
    case 'VERSION':
      base.version = String(c.revision);
      break;
    case 'VALUE':
      base.value = b64(c.value);
      break;
    case 'LEASE':
      base.lease = c.lease;
      break;
  }
  return base;
}

function opBody(op: TxnOp): Record<string, unknown> {
  if ('put' in op) {
    const p: Record<string, unknown> = { key: b64(op.put.key), value: b64(op.put.value) };
    if (op.put.lease && op.put.lease !== '0') p.lease = op.put.lease;
    return { request_put: p };
  }
  if ('range' in op) return { request_range: { key: b64(op.range.key) } };
  return { request_delete_range: { key: b64(op.delete.key) } };
}

/** node:https, loaded the first time an https endpoint is asked: it brings tls and crypto, ~20
 * more of Node's own modules that the image's Node 18 compiles at every start (it has no code
 * cache) — ~15 ms of CPU per agent that lab agents, which speak http, never use. */
let httpsModule: typeof https | undefined;
const loadHttps = (): typeof https => (httpsModule ??= createRequire(import.meta.url)('node:https') as typeof https);

export interface HttpEtcdOptions {
  /** Per-request timeout for unary calls. Default 5000 ms. */
  timeoutMs?: number;
}

export class HttpEtcdClient implements EtcdClient {
  private current = 0;
  private readonly agents: { http: http.Agent; https?: https.Agent };
  private readonly timeoutMs: number;
  private closed = false;
  private readonly open = new Set<http.ClientRequest>();

  constructor(
    private readonly endpoints: string[],
    opts: HttpEtcdOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.agents = { http: new http.Agent({ keepAlive: true, maxSockets: 4 }) };
  }

  private httpsAgent(): https.Agent {
    return (this.agents.https ??= new (loadHttps().Agent)({ keepAlive: true, maxSockets: 4 }));
  }

  get endpoint(): string {
    return this.endpoints[this.current % this.endpoints.length] as string;
  }

  private requestOnce(endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, endpoint + '/');
      const isHttps = url.protocol === 'https:';
      const payload = Buffer.from(JSON.stringify(body));
      const req = (isHttps ? loadHttps() : http).request(
        url,
        {
          method: 'POST',
          agent: isHttps ? this.httpsAgent() : this.agents.http,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new EtcdUnavailableError(`etcd ${endpoint}/${path}: ${e.message}`)));
          res.on('end', () => {
            this.open.delete(req);
            const text = Buffer.concat(chunks).toString('utf8');
            let j: Record<string, unknown>;
            try {
              j = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              reject(new EtcdRequestError(`etcd ${endpoint}/${path}: response is not JSON: ${text.slice(0, 200)}`, res.statusCode));
              return;
            }
            if ((res.statusCode ?? 0) >= 500 && (res.statusCode ?? 0) !== 501) {
              // 503 "etcdserver: no leader" and friends: treat like unavailable (retry elsewhere/later)
              reject(new EtcdUnavailableError(`etcd ${endpoint}/${path}: HTTP ${res.statusCode}: ${jsonText(j.error ?? j.message ?? text.slice(0, 200))}`));
              return;
            }
            if ((res.statusCode ?? 0) !== 200) {
              reject(new EtcdRequestError(`etcd ${endpoint}/${path}: HTTP ${res.statusCode}: ${jsonText(j.error ?? j.message ?? text.slice(0, 200))}`, res.statusCode));
              return;
            }
            resolve(j);
          });
        },
      );
      this.open.add(req);
      req.on('timeout', () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on('error', (e) => {
        this.open.delete(req);
        reject(new EtcdUnavailableError(`etcd ${endpoint}/${path}: ${e.message}`));
      });
      req.end(payload);
    });
  }

  /** Tries the current endpoint, then the others, once each. */
  private async call(path: string, body: unknown): Promise<Record<string, unknown>> {
    if (this.closed) throw new EtcdUnavailableError('etcd client closed');
    let lastErr: Error | undefined;
    for (let i = 0; i < this.endpoints.length; i++) {
      const idx = (this.current + i) % this.endpoints.length;
      try {
        const r = await this.requestOnce(this.endpoints[idx] as string, path, body);
        this.current = idx;
        return r;
      } catch (e) {
        lastErr = e as Error;
        if (!(e instanceof EtcdUnavailableError)) throw e;
      }
    }
    throw lastErr ?? new EtcdUnavailableError('etcd unavailable');
  }

  async range(key: string, opts: { prefix?: boolean } = {}): Promise<RangeResult> {
    const r = await this.call('v3/kv/range', rangeBody(key, opts.prefix));
    const header = (r.header ?? {}) as Record<string, unknown>;
    const kvs = ((r.kvs ?? []) as RawKv[]).map(decodeKv);
    return { kvs, revision: num(header.revision) };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const body: Record<string, unknown> = { key: b64(key), value: b64(value) };
    if (lease && lease !== '0') body.lease = lease;
    const r = await this.call('v3/kv/put', body);
    return num(((r.header ?? {}) as Record<string, unknown>).revision);
  }

  async delete(key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    const r = await this.call('v3/kv/deleterange', rangeBody(key, opts.prefix));
    return num(r.deleted);
  }

  async txn(compare: Compare[], success: TxnOp[], failure: TxnOp[]): Promise<TxnResult> {
    const r = await this.call('v3/kv/txn', {
      compare: compare.map(compareBody),
      success: success.map(opBody),
      failure: failure.map(opBody),
    });
    const ranges: KeyValue[][] = [];
    for (const resp of (r.responses ?? []) as Record<string, unknown>[]) {
      const rr = resp.response_range as { kvs?: RawKv[] } | undefined;
      if (rr) ranges.push((rr.kvs ?? []).map(decodeKv));
    }
    return { succeeded: r.succeeded === true, revision: num(((r.header ?? {}) as Record<string, unknown>).revision), ranges };
  }

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const r = await this.call('v3/lease/grant', { TTL: String(ttlSeconds) });
    if (r.error) throw new EtcdRequestError(`lease grant: ${jsonText(r.error)}`);
    return { id: str(r.ID), ttl: num(r.TTL) };
  }

  async leaseKeepAlive(id: string): Promise<number> {
    const r = await this.call('v3/lease/keepalive', { ID: id });
    const res = (r.result ?? r) as Record<string, unknown>;
    if (r.error) {
      const msg = JSON.stringify(r.error);
      if (/not found/i.test(msg)) return 0;
      throw new EtcdRequestError(`lease keepalive: ${msg}`);
    }
    return num(res.TTL);
  }

  async leaseTimeToLive(id: string): Promise<{ ttl: number; grantedTtl: number }> {
    const r = await this.call('v3/kv/lease/timetolive', { ID: id });
    return { ttl: r.TTL === undefined ? 0 : num(r.TTL), grantedTtl: num(r.grantedTTL) };
  }

  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call('v3/kv/lease/revoke', { ID: id });
    } catch (e) {
      if (e instanceof EtcdRequestError && /not found/i.test(e.message)) return;
      throw e;
    }
  }

  watch(key: string, opts: { prefix?: boolean; startRevision?: number }, cb: WatchCallbacks): Watcher {
    let cancelled = false;
    let ended = false;
    const endpoint = this.endpoint;
    const create: Record<string, unknown> = rangeBody(key, opts.prefix);
    if (opts.startRevision && opts.startRevision > 0) create.start_revision = String(opts.startRevision);
    const payload = Buffer.from(JSON.stringify({ create_request: create }));
    const url = new URL('v3/watch', endpoint + '/');
    const isHttps = url.protocol === 'https:';
    const finish = (err: Error): void => {
      if (ended || cancelled) return;
      ended = true;
      // rotate to the next endpoint for the next attempt
      this.current = (this.endpoints.indexOf(endpoint) + 1) % this.endpoints.length;
      cb.onEnd(err);
    };
    const req = (isHttps ? loadHttps() : http).request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    });
    req.on('socket', (s) => {
      s.setKeepAlive(true, 5000);
      s.setNoDelay(true);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        finish(new EtcdRequestError(`watch: HTTP ${res.statusCode}`, res.statusCode));
        res.resume();
        return;
      }
      const splitter = new JsonObjectSplitter();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (cancelled || ended) return;
        for (const text of splitter.push(chunk)) {
          let msg: Record<string, unknown>;
          try {
            msg = JSON.parse(text) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (msg.error) {
            finish(new EtcdRequestError(`watch: ${JSON.stringify(msg.error)}`));
            req.destroy();
            return;
          }
          const result = (msg.result ?? {}) as Record<string, unknown>;
          const revision = num(((result.header ?? {}) as Record<string, unknown>).revision);
          if (result.compact_revision !== undefined && num(result.compact_revision) > 0) {
            finish(new WatchCompactedError(num(result.compact_revision)));
            req.destroy();
            return;
          }
          if (result.canceled) {
            finish(new EtcdRequestError(`watch canceled by server: ${jsonText(result.cancel_reason ?? '')}`));
            req.destroy();
            return;
          }
          if (result.created) cb.onCreated?.(revision);
          const events = ((result.events ?? []) as Record<string, unknown>[]).map(
            (e): WatchEvent => ({ type: e.type === 'DELETE' ? 'DELETE' : 'PUT', kv: decodeKv((e.kv ?? {}) as RawKv) }),
          );
          if (events.length > 0) cb.onEvents(events, revision);
        }
      });
      res.on('end', () => finish(new EtcdUnavailableError('watch stream ended')));
      res.on('error', (e) => finish(new EtcdUnavailableError(`watch stream: ${e.message}`)));
      res.on('close', () => finish(new EtcdUnavailableError('watch stream closed')));
    });
    req.on('error', (e) => finish(new EtcdUnavailableError(`watch ${endpoint}: ${e.message}`)));
    req.end(payload);
    return {
      cancel: () => {
        cancelled = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const r of this.open) r.destroy();
    this.agents.http.destroy();
    this.agents.https?.destroy();
  }
}
