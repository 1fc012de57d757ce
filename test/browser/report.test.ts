// The HTML report in a real browser: Debian's chromium, headless, driven by playwright-core (no
// browser is downloaded). Reports are rendered from journeys recorded on real labs; the page
// must load with no console error and no request beyond itself, draw an SVG element for every
// node and pod, draw the trace's hops and its drop, and leave a screenshot as a test artifact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { renderReportHtml } from '../../src/report/html/report-page.js';
import { loadTraceFixture, replayLive } from '../unit/trace-fixture.js';
import { parseLabSpec } from '../../src/lab-loader/parse-lab-spec.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let context: BrowserContext;

beforeAll(async () => {
  await execa('bash', [`${ROOT}scripts/install-test-tools.sh`], { stdio: 'inherit' });
  const profile = await mkdtemp('/tmp/overlab-chromium-');
  context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
}, 600_000);

afterAll(async () => {
  await context?.close();
});

async function open(name: string, html: string) {
  const file = `${ARTIFACTS}report-${name}.html`;
  await writeFile(file, html);
  const url = pathToFileURL(file).href;
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

describe('overlab report in chromium', () => {
  it('flannel-vxlan with its trace: every node and pod drawn, 13 hops on the diagram, no error, no request', async () => {
    const f = loadTraceFixture('flannel-vxlan');
    const trace = replayLive('flannel-vxlan').result;
    const { page, errors, requests } = await open('flannel-vxlan', renderReportHtml({ lab: f.lab, generatedAt: 'test', leases: [], hosts: [], traces: [trace] }));
    for (const node of [...f.lab.hosts, ...f.lab.externals]) expect(await page.locator(`svg.topology [data-node="${node.name}"]`).count(), node.name).toBe(1);
    for (const host of f.lab.hosts) for (const pod of host.pods) expect(await page.locator(`svg.topology [data-pod="${host.name}/${pod.name}"]`).count()).toBe(1);
    expect(await page.locator('svg.topology [data-node="switch"]').count()).toBe(1);
    expect(await page.locator('svg.topology [data-trace="0"] .hop').count()).toBe(13);
    expect(await page.locator('svg.topology [data-trace="0"] .hop[data-at="host1:flannel.1"]').count()).toBe(1);
    const box = await page.locator('svg.topology [data-trace="0"] .hop[data-hop="5"] circle').boundingBox();
    expect(box && box.width > 0 && box.height > 0).toBe(true);
    expect(await page.locator('[data-trace-table="0"] tbody tr').count()).toBe(13);
    await page.screenshot({ path: `${ARTIFACTS}report-flannel-vxlan.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(dark).not.toBe(light);
    await page.screenshot({ path: `${ARTIFACTS}report-flannel-vxlan-light.png` });
    await page.emulateMedia({ media: 'print' });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(255, 255, 255)');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('no-overlay: the router drawn, the drop marked where the trace died', async () => {
    const f = loadTraceFixture('no-overlay');
    const trace = replayLive('no-overlay').result;
    const { page, errors, requests } = await open('no-overlay', renderReportHtml({ lab: f.lab, generatedAt: 'test', leases: [], hosts: [], traces: [trace] }));
    expect(await page.locator('svg.topology [data-node="router"]').count()).toBe(1);
    expect(await page.locator('svg.topology [data-trace="0"] .drop[data-drop="router:eth0"]').count()).toBe(1);
    expect(await page.locator('[data-trace-table="0"] .fail').textContent()).toContain('no route to 172.16.2.0/24');
    await page.screenshot({ path: `${ARTIFACTS}report-no-overlay.png`, fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('a lab across three engines: each host inside its engine\'s frame (name, endpoint, address), the tunnels between the switches', async () => {
    const spec = parseLabSpec(
      `name: spread
engines:
  e1: { host: tcp://10.99.0.11:2376 }
  e2: { host: ssh://root@10.99.0.12 }
  e3: { context: rig-e3, address: 10.99.0.13 }
network: { backend: vxlan, controlPlane: etcd }
hosts:
  - { name: host1, pods: [pod1] }
  - { name: host2, pods: [pod1] }
  - { name: host3, pods: [pod1] }
`,
      '/labs/spread.yaml',
    );
    const lab = resolveLab(spec, { takenSubnets: [] });
    const { page, errors, requests } = await open('engines', renderReportHtml({ lab, generatedAt: 'test', leases: [], hosts: [], traces: [] }));
    const frame = (engine: string) => page.locator(`svg.topology [data-engine="${engine}"] > rect`).boundingBox();
    for (const host of lab.hosts) {
      const [own, drawn] = await Promise.all([frame(host.engine!), page.locator(`svg.topology [data-node="${host.name}"]`).boundingBox()]);
      expect(own && drawn, host.name).toBeTruthy();
      const within = drawn!.x >= own!.x && drawn!.y >= own!.y && drawn!.x + drawn!.width <= own!.x + own!.width && drawn!.y + drawn!.height <= own!.y + own!.height;
      expect(within, `${host.name} drawn inside engine ${host.engine!}'s frame`).toBe(true);
    }
    expect(await page.locator('svg.topology [data-engine="e2"]').textContent()).toBe('engine e2ssh://root@10.99.0.12 · address 10.99.0.12');
    expect(await page.locator('svg.topology [data-engine="e3"]').textContent()).toBe('engine e3context rig-e3 · address 10.99.0.13');
    expect(await page.locator('svg.topology .tunnel').count()).toBe(3);
    expect(await page.locator('svg.topology [data-tunnel="e1-e3"]').textContent()).toBe(`stitched: VXLAN VNI ${lab.stitch!.vni} · UDP 14789, engine e1 (10.99.0.11) ↔ engine e3 (10.99.0.13)VXLAN VNI ${lab.stitch!.vni} · UDP 14789`);
    const line = await page.locator('svg.topology [data-tunnel="e1-e2"] line').boundingBox();
    expect(line && line.width > 50).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}report-engines.png`, fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
