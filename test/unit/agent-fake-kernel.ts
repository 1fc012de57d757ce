// A fake kernel for the agent's unit tests and the scale harness (scripts/dev/agent-scale.ts): it
// understands the `ip`/`bridge`/`iptables` commands the agent issues — one per process or many
// per process through `ip -batch -` / `bridge -batch -` on stdin — keeps the state they change,
// and records every process and command so tests can count them.
import type { CommandRunner, RunResult } from '../../src/agent/kernel.js';

export interface FakeLink {
  name: string;
  kind: string;
  mac: string;
  mtu: number;
  up: boolean;
  addrs: string[];
  info?: Record<string, unknown>;
}

export interface FakeProcess {
  argv: string[];
  /** The lines fed on stdin (batch mode), else empty. */
  batch: string[];
}

export class FakeKernel implements CommandRunner {
  links = new Map<string, FakeLink>();
  routes = new Map<string, { dst: string; via?: string; dev: string; onlink: boolean }>();
  neigh = new Map<string, { ip: string; lladdr: string; dev: string }>();
  fdb = new Map<string, { mac: string; dst: string; dev: string }>();
  ipt = new Set<string>();
  /** Every state-changing command, as `ip …`/`bridge …` text (batch lines included). */
  mutations: string[] = [];
  /** Every process started. */
  processes: FakeProcess[] = [];
  /** Added to each process (simulates the cost of a fork+exec under load). */
  costMs = 0;
  /** Makes matching state-changing commands fail (to test recovery). */
  failWhen: ((line: string) => boolean) | null = null;
  private macs = 0;

  constructor() {
    this.links.set('eth0', { name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:aa', mtu: 1500, up: true, addrs: ['192.168.50.2/24'] });
  }

  /** Commands run: one per plain process, one per line of a batch. */
  get commands(): number {
    return this.processes.reduce((n, p) => n + (p.batch.length > 0 ? p.batch.length : 1), 0);
  }

  resetCounters(): void {
    this.processes = [];
    this.mutations = [];
  }

  private ok(stdout = ''): RunResult {
    return { code: 0, stdout, stderr: '' };
  }
  private fail(msg: string): RunResult {
    return { code: 1, stdout: '', stderr: msg };
  }

  async run(argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
    const batchAt = argv.indexOf('-batch');
    const batch = batchAt >= 0 ? (opts.input ?? '').split('\n').filter((l) => l.trim() !== '') : [];
    this.processes.push({ argv: [...argv], batch });
    if (this.costMs > 0) await new Promise((r) => setTimeout(r, this.costMs));
    if (batchAt < 0) return this.one(argv);
    if (argv[batchAt + 1] !== '-') return this.fail('fake kernel: batch only from stdin');
    const tool = argv[0] as string;
    const force = argv.includes('-force');
    const errors: string[] = [];
    let code = 0;
    for (const [i, line] of batch.entries()) {
      const r = this.one([tool, ...line.trim().split(/\s+/)]);
      if (r.code !== 0) {
        code = 1;
        errors.push(r.stderr, `Command failed -:${i + 1}`);
        if (!force) break;
      }
    }
    return { code, stdout: '', stderr: errors.join('\n') };
  }

  private one(argv: string[]): RunResult {
    const a = [...argv];
    const line = a.join(' ');
    if (this.failWhen?.(line)) return this.fail(`RTNETLINK answers: Operation not permitted (injected for ${line})`);
    const cmd = a.shift();
    if (cmd === 'iptables') {
      const op = a[2];
      const rule = [a[1], ...a.slice(3)].join(' ');
      if (op === '-C') return this.ipt.has(rule) ? this.ok() : this.fail('no rule');
      this.ipt.add(rule);
      this.mutations.push(line);
      return this.ok();
    }
    if (cmd === 'bridge') {
      // bridge -j fdb show dev X | bridge fdb replace MAC dev X dst IP self permanent | bridge fdb del …
      if (a[0] === '-j') {
        const dev = a[4] as string;
        return this.ok(JSON.stringify([...this.fdb.values()].filter((f) => f.dev === dev).map((f) => ({ mac: f.mac, dst: f.dst, flags: ['self'], state: 'permanent' }))));
      }
      const [, verb, mac, , dev, , dst] = a;
      const k = `${dev} ${mac} ${dst}`;
      if (verb === 'replace') this.fdb.set(k, { mac: mac!, dst: dst!, dev: dev! });
      else if (!this.fdb.delete(k)) return this.fail('RTNETLINK answers: No such file or directory');
      this.mutations.push(line);
      return this.ok();
    }
    if (cmd !== 'ip') return { code: 127, stdout: '', stderr: 'not found' };
    const json = a[0] === '-j';
    if (json) a.shift();
    if (a[0] === '-d') a.shift();
    const [obj, verb] = a;
    if (obj === 'link') {
      if (verb === 'show') {
        const l = this.links.get(a[3] as string);
        if (!l) return this.fail(`Device "${a[3]}" does not exist.`);
        return this.ok(JSON.stringify([{ ifname: l.name, ifindex: 1, flags: l.up ? ['UP'] : [], mtu: l.mtu, address: l.mac, linkinfo: { info_kind: l.kind, info_data: l.info } }]));
      }
      if (verb === 'add') {
        const name = a[2] as string;
        const kind = a[a.indexOf('type') + 1] as string;
        const info = kind === 'vxlan' ? { id: Number(a[a.indexOf('id') + 1]), local: a[a.indexOf('local') + 1], link: a[a.indexOf('dev') + 1], port: Number(a[a.indexOf('dstport') + 1]), learning: false } : {};
        this.links.set(name, { name, kind, mac: `0a:00:00:00:01:${(++this.macs).toString(16).padStart(2, '0')}`, mtu: 1500, up: false, addrs: [], info });
      } else if (verb === 'set') {
        const l = this.links.get(a[2] as string)!;
        if (a[3] === 'mtu') l.mtu = Number(a[4]);
        if (a[3] === 'up') l.up = true;
      } else if (verb === 'del') this.links.delete(a[2] as string);
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'addr') {
      const l = this.links.get(a[a.indexOf('dev') + 1] as string);
      if (!l) return this.fail('no device');
      if (verb === 'show') return this.ok(JSON.stringify([{ ifname: l.name, addr_info: l.addrs.map((x) => ({ family: 'inet', local: x.split('/')[0], prefixlen: Number(x.split('/')[1]) })) }]));
      if (verb === 'replace' && !l.addrs.includes(a[2] as string)) l.addrs.push(a[2] as string);
      if (verb === 'del') l.addrs = l.addrs.filter((x) => x !== a[2]);
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'route') {
      if (verb === 'show') {
        const dev = a[3];
        return this.ok(JSON.stringify([...this.routes.values()].filter((r) => r.dev === dev).map((r) => ({ dst: r.dst, ...(r.via ? { gateway: r.via } : {}), flags: r.onlink ? ['onlink'] : [] }))));
      }
      const dst = a[2] as string;
      const dev = a[a.indexOf('dev') + 1] as string;
      if (!this.links.has(dev)) return this.fail(`Cannot find device "${dev}"`);
      if (verb === 'replace') this.routes.set(dst, { dst, ...(a.includes('via') ? { via: a[a.indexOf('via') + 1] } : {}), dev, onlink: a.includes('onlink') });
      else if (!this.routes.delete(dst)) return this.fail('RTNETLINK answers: No such process');
      this.mutations.push(line);
      return this.ok();
    }
    if (obj === 'neigh') {
      if (verb === 'show') {
        const dev = a[3];
        return this.ok(JSON.stringify([...this.neigh.values()].filter((n) => n.dev === dev).map((n) => ({ dst: n.ip, lladdr: n.lladdr, state: ['PERMANENT'] }))));
      }
      const ip = a[2] as string;
      const dev = a[a.indexOf('dev') + 1] as string;
      if (verb === 'replace') this.neigh.set(`${dev} ${ip}`, { ip, lladdr: a[4] as string, dev });
      else if (!this.neigh.delete(`${dev} ${ip}`)) return this.fail('RTNETLINK answers: No such file or directory');
      this.mutations.push(line);
      return this.ok();
    }
    return this.fail(`fake kernel: unsupported ${line}`);
  }
}
