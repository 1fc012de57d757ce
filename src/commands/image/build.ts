import { Flags } from '@oclif/core';
import type { ArgCompletion } from '../../cli/completion.js';
import { BaseCommand } from '../../cli/base-command.js';
import { buildOffline } from '../../image/offline-build.js';
import { buildWithDockerfile } from '../../image/dockerfile-build.js';
import { hostImageTags, missingPackages } from '../../image/host-image.js';

interface ImageBuildResult {
  tags: string[];
  method: 'offline' | 'dockerfile';
  status: 'built' | 'present';
  durationMs: number;
}

export default class ImageBuild extends BaseCommand<ImageBuildResult> {
  /** What each argument holds, for shell completion (src/cli/completion.ts). */
  static completion: ArgCompletion[] = [];
  static override summary = 'Build the lab host image (Debian + iproute2, tcpdump, iptables, iperf3, etcd, Node.js).';
  static override description =
    'offline (default): mmdebstrap makes a Debian root filesystem from Debian\'s packages and the engine imports it — no container registry needed. dockerfile: the engine builds image/Dockerfile, for machines that can pull debian:bookworm-slim.';
  static override examples = ['<%= config.bin %> image build', '<%= config.bin %> image build --if-missing', '<%= config.bin %> image build --method dockerfile'];
  static override flags = {
    method: Flags.string({ options: ['offline', 'dockerfile'], default: 'offline', description: 'How to build.' }),
    'if-missing': Flags.boolean({ description: 'Do nothing when the image is already there with every package this version needs.', default: false }),
  };

  protected async execute(): Promise<ImageBuildResult> {
    const { flags } = await this.parse(ImageBuild);
    const tags = hostImageTags();
    const method = flags.method as 'offline' | 'dockerfile';
    const started = Date.now();
    if (flags['if-missing']) {
      const labels = await Promise.all(tags.map((t) => this.runtime.imageLabels(t, { signal: this.abort.signal })));
      const stale = labels.flatMap((l) => (l ? missingPackages(l) : []));
      if (labels.every((l) => l !== undefined) && stale.length === 0) return { tags, method, status: 'present', durationMs: 0 };
      if (stale.length > 0) this.note(`the image there lacks ${[...new Set(stale)].join(', ')}: building it again`);
    }
    const log = (line: string) => {
      this.note(this.colours.dim(line));
    };
    if (method === 'offline') await buildOffline(this.runtime, tags, { onLog: log, signal: this.abort.signal });
    else await buildWithDockerfile(this.runtime, tags, { onLog: log, signal: this.abort.signal });
    return { tags, method, status: 'built', durationMs: Date.now() - started };
  }

  protected renderHuman(r: ImageBuildResult): string {
    if (r.status === 'present') return `${this.colours.green('✓')} ${r.tags.join(', ')} already present`;
    return `${this.colours.green('✓')} built ${r.tags.join(', ')} (${r.method}, ${(r.durationMs / 1000).toFixed(0)} s)`;
  }
}
