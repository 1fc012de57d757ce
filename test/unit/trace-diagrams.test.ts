// `inspect --mermaid` and the diagrams in docs/diagrams: each seed lab's flowchart, rendered
// from the lab resolved as `up` would on a machine with nothing else on it (underlay
// 192.168.50.0/24). The docs must match what the renderer draws; regenerate them with
// UPDATE_DIAGRAMS=1 npx vitest run test/unit/trace-diagrams.test.ts
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadLabSpec } from '../../src/lab-loader/load.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { renderMermaid } from '../../src/report/mermaid.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LABS = readdirSync(`${ROOT}labs`).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();

function page(lab: string, description: string, mermaid: string): string {
  return `# ${lab}\n\n${description}\n\nDrawn by \`overlab inspect ${lab} --mermaid\` (addresses as \`up\` gives them on a machine with nothing else on it).\n\n\`\`\`mermaid\n${mermaid}\`\`\`\n`;
}

describe('Mermaid diagrams of the seed labs', () => {
  it.each(LABS)('%s: docs/diagrams matches the renderer', async (name) => {
    const spec = await loadLabSpec(`${ROOT}labs/${name}.yaml`);
    const lab = resolveLab(spec, { takenSubnets: [] });
    const mermaid = renderMermaid(lab);
    expect(mermaid.startsWith('flowchart TB\n')).toBe(true);
    for (const host of lab.hosts) {
      expect(mermaid).toContain(`subgraph host_${host.name.replace(/-/g, '_')}[`);
      for (const pod of host.pods) expect(mermaid).toContain(`${pod.name}<br/>${pod.ip}/${pod.prefixLen}`);
    }
    for (const e of lab.externals) expect(mermaid).toContain(`node_${e.name}[`);
    expect(mermaid).not.toMatch(/[^#\w]"[^"]*"[^|\])]/); // labels are quoted whole
    const file = `${ROOT}docs/diagrams/${name}.md`;
    const expected = page(name, spec.description ?? '', mermaid);
    if (process.env.UPDATE_DIAGRAMS) writeFileSync(file, expected);
    expect(readFileSync(file, 'utf8')).toBe(expected);
  });

  it('docs/diagrams/README.md links every lab', () => {
    const index = `# The seed labs, drawn\n\nEach page is a Mermaid flowchart (GitHub and GitLab render it) of one lab in \`labs/\`.\n\n${LABS.map((l) => `- [${l}](${l}.md)`).join('\n')}\n`;
    if (process.env.UPDATE_DIAGRAMS) writeFileSync(`${ROOT}docs/diagrams/README.md`, index);
    expect(readFileSync(`${ROOT}docs/diagrams/README.md`, 'utf8')).toBe(index);
  });
});
