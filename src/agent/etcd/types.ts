// The small etcd v3 surface the agent needs. Keys and values are UTF-8 strings here; the HTTP
// client base64-encodes them for the JSON gateway. Lease ids are int64 and stay decimal strings
// (they do not fit in a JS number).

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** "0" when the key is not attached to a lease. */
  lease: string;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Store revision at the time of the read (start a watch at revision + 1). */
  revision: number;
}

export type CompareResult = 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'LESS';

export type Compare =
  | { key: string; target: 'CREATE' | 'MOD' | 'VERSION'; result: CompareResult; revision: number }
  | { key: string; target: 'VALUE'; result: CompareResult; value: string }
  | { key: string; target: 'LEASE'; result: CompareResult; lease: string };

export type TxnOp = { put: { key: string; value: string; lease?: string } } | { range: { key: string } } | { delete: { key: string } };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** For each range op of the branch that ran, in order: the keys it found. */
  ranges: KeyValue[][];
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  /** For DELETE: key and modRevision (the deletion revision); value is "". */
  kv: KeyValue;
}

export class EtcdUnavailableError extends Error {}
export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
export class WatchCompactedError extends Error {
  constructor(readonly compactRevision: number) {
    super(`watch start revision was compacted (compact revision ${compactRevision})`);
  }
}

export interface WatchCallbacks {
  /** Events of one watch response, with the header revision. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** The stream ended or failed (never called after cancel()). The caller decides whether to re-watch. */
  onEnd(err: Error): void;
  /** The watch was created on the server. */
  onCreated?(revision: number): void;
}

export interface Watcher {
  cancel(): void;
}

export interface EtcdClient {
  range(key: string, opts?: { prefix?: boolean }): Promise<RangeResult>;
  put(key: string, value: string, lease?: string): Promise<number>;
  /** Number of keys deleted. */
  delete(key: string, opts?: { prefix?: boolean }): Promise<number>;
  txn(compare: Compare[], success: TxnOp[], failure: TxnOp[]): Promise<TxnResult>;
  leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }>;
  /** Remaining TTL in seconds after the renewal; 0 when the lease no longer exists. */
  leaseKeepAlive(id: string): Promise<number>;
  /** ttl -1 when the lease does not exist. */
  leaseTimeToLive(id: string): Promise<{ ttl: number; grantedTtl: number }>;
  leaseRevoke(id: string): Promise<void>;
  watch(key: string, opts: { prefix?: boolean; startRevision?: number }, cb: WatchCallbacks): Watcher;
  close(): void;
}

/** etcd's range_end for "all keys with this prefix": the prefix with its last byte + 1. */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // whole keyspace
}
