import { Args, Flags } from '@oclif/core';
import type { ArgCompletion } from '../cli/completion.js';
import { writeFile } from 'node:fs/promises';
import { BaseCommand } from '../cli/base-command.js';
import { absentContainers, requireLab, requireContainerThere } from '../lab/engine-labs.js';
import { LabReferences } from '../lab/lab-references.js';
import { inputError } from '../base/errors.js';
import { traceLab, type TraceRun } from '../trace/trace-lab.js';
import { DEFAULT_PORT, DEFAULT_PROTO, traceOptionsFor } from '../trace/service-target.js';
import type { TraceResult } from '../trace/trace-result.js';
import { renderMinimal, renderTrace } from '../trace/trace-text.js';
import { tracePcapng } from '../trace/trace-pcapng.js';

export default class Trace extends BaseCommand<TraceResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = ['lab', 'target', 'target'];
  static override summary = 'Follow one marked packet through a running lab, hop by hop, and say where it died and why.';
  static override description =
    'Listens on every interface of the predicted path (and where the packet could go astray), sends one probe, and prints the numbered timeline: node, interface, direction, µs since the first hop, the headers, and what changed there. Exit 0 when delivered, 1 when not (the verdict and its evidence from counters and tables are printed). --static predicts from the kernel tables alone and sends nothing.';
  static override examples = [
    '<%= config.bin %> trace flannel-vxlan host1/pod1 host2/pod1',
    '<%= config.bin %> trace no-overlay host1/pod1 host2/pod1 --format minimal',
    '<%= config.bin %> trace flannel-udp host1/pod1 host2/pod1 --reply --pcap journey.pcapng',
    '<%= config.bin %> trace host-gw host1/pod1 host2/pod1 --static',
    '<%= config.bin %> trace k8s-service host1/client svc/web --reply',
    '<%= config.bin %> trace k8s-service outside host2 --proto tcp --port 30080 --static',
  ];
  static override args = {
    lab: Args.string({ description: 'Lab name.', required: true }),
    from: Args.string({ description: 'Where the probe starts: <host>, <host>/<pod> or <node>.', required: true }),
    to: Args.string({ description: 'Where it goes: <host>, <host>/<pod>, <node>, svc/<service>[:<port>] or an IPv4 address inside the lab (a ClusterIP too).', required: true }),
  };
  static override flags = {
    proto: Flags.string({ description: `Probe protocol (default ${DEFAULT_PROTO}; to a Service, its port's protocol).`, options: ['icmp', 'udp', 'tcp'] }),
    port: Flags.integer({ description: `Destination port for udp/tcp probes (default ${DEFAULT_PORT}; to a Service, its port).`, min: 1, max: 65535 }),
    size: Flags.integer({ description: 'IPv4 length of the probe in bytes (sent with Don\'t Fragment).' }),
    reply: Flags.boolean({ description: 'Also follow the answer back.', default: false }),
    static: Flags.boolean({ description: 'Predict from routes, neighbours, FDB, MTUs, sysctls and firewall rules alone; send nothing.', default: false }),
    format: Flags.string({ description: 'timeline (default) or minimal: one stable line per host.', options: ['timeline', 'minimal'], default: 'timeline' }),
    pcap: Flags.string({ description: 'Write the probe as seen at every hop to this pcapng file (one interface per hop).' }),
  };

  private run_?: TraceRun;
  private format = 'timeline';

  protected async execute(): Promise<TraceResult> {
    const { args, flags } = await this.parse(Trace);
    if (flags.static && flags.pcap) throw inputError('--pcap needs a live trace: a static one captures nothing', 'drop --static or --pcap');
    this.format = flags.format;
    // On a degraded lab the walk goes as far as there is something, and says what is missing.
    const open = await requireLab(this.runtime, args.lab, { acceptDegraded: true });
    const lab = open.model;
    const absent = absentContainers(open);
    const from = new LabReferences(lab).endpoint(args.from);
    requireContainerThere(open, from.container);
    const options = traceOptionsFor(lab, args.to, {
      ...(flags.proto !== undefined ? { proto: flags.proto as 'icmp' | 'udp' | 'tcp' } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.size !== undefined ? { size: flags.size } : {}),
      reply: flags.reply,
      static: flags.static,
    });
    const run = await traceLab(this.runtime, lab, args.from, args.to, options, this.abort.signal, absent);
    this.run_ = run;
    if (flags.pcap) await writeFile(flags.pcap, tracePcapng(run));
    this.resultExitCode = run.result.delivered ? 0 : 1;
    return run.result;
  }

  protected renderHuman(result: TraceResult): string {
    if (this.format === 'minimal') return renderMinimal(result, this.run_?.facts ?? []);
    return renderTrace(result, this.colours, this.run_?.listened.length);
  }
}
