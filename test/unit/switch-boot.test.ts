// The underlay switch's own command (src/plan/switch-boot.ts): its bridges and the hand-over of
// its namespace as it boots, run here by bash with `ip` and the helper replaced by recorders.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SWITCH_BOOT_PRELUDE, SWITCH_BOOT_SCRIPT, switchCommand } from '../../src/plan/switch-boot.js';
import { DAEMON_CONTROL_SCRIPT, NODE_BOOT_SCRIPT, NODE_INIT_SCRIPT } from '../../src/plan/node-init.js';
import { NETNS_SHARE, UNDERLAY_SOCKET } from '../../src/plan/node-plans.js';
import { containerSpecs } from '../../src/plan/containers.js';
import { resolveLab } from '../../src/plan/resolve-lab.js';
import { twoHostSpec } from './lab-fixture.js';

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The prelude with the helper and the socket moved under `root`, `ip` a recorder on PATH; resolves
 * once bash has exited (what it started in the background may still run), with its status and
 * stderr so far. */
function run(root: string, args: string[], helperAfterMs?: number): Promise<{ status: number | null; stderr: string }> {
  const prelude = SWITCH_BOOT_PRELUDE.replaceAll(NETNS_SHARE, `${root}/netns-share`).replaceAll(UNDERLAY_SOCKET, `${root}/underlay.sock`);
  writeFileSync(`${root}/ip`, `#!/bin/bash\nprintf '%s\\n' "$*" >>${root}/ip.log\n[[ $4 == bad ]] && exit 2\nexit 0\n`);
  chmodSync(`${root}/ip`, 0o755);
  writeFileSync(`${root}/helper.staged`, `#!/bin/bash\nprintf '%s\\n' "$PPID $*" >${root}/helper.log\n`);
  const late = helperAfterMs === undefined ? '' : `( sleep ${helperAfterMs / 1000}; cp ${root}/helper.staged ${root}/netns-share; chmod 755 ${root}/netns-share ) &\n`;
  const script = `${late}${prelude}echo $$ >${root}/booted\n`;
  const child = spawn('bash', ['--noprofile', '--norc', '-c', script, 'overlab-switch-boot', ...args], { env: { PATH: `${root}:/usr/bin:/bin` }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (status) => setTimeout(() => resolve({ status, stderr }), 50)));
}

describe('the switch boot', () => {
  it('is the node boot with the switch prelude in front; its argv carries the count and the bridges, no other value', () => {
    expect(SWITCH_BOOT_SCRIPT).toBe(SWITCH_BOOT_PRELUDE + NODE_BOOT_SCRIPT);
    expect(switchCommand(['rack1', 'spine'], 5)).toEqual(['bash', '--noprofile', '--norc', '-c', SWITCH_BOOT_SCRIPT, 'overlab-switch-boot', NODE_INIT_SCRIPT, DAEMON_CONTROL_SCRIPT, '5', 'rack1', 'spine']);
    expect(() => switchCommand(['$(id)'], 1)).toThrow(/unsafe bridge name/);
    const lab = resolveLab(twoHostSpec(), { takenSubnets: [] });
    const sw = containerSpecs(lab).find((s) => s.name === lab.underlay.switchContainer)!;
    expect(sw.command).toEqual(switchCommand([lab.underlay.bridge], lab.hosts.length + lab.externals.length));
  });

  it('makes each bridge, then hands the namespace over once the helper appears, detached from the boot', async () => {
    const root = mkdtempSync('/tmp/overlab-switch-boot-');
    const r = await run(root, ['init', 'control', '3', 'rack1', 'spine'], 300);
    expect(r.status).toBe(0);
    expect(readFileSync(`${root}/ip.log`, 'utf8')).toBe('link add name rack1 type bridge\nlink set dev rack1 up\nlink add name spine type bridge\nlink set dev spine up\n');
    const booted = Number(readFileSync(`${root}/booted`, 'utf8'));
    // The boot went on at once; the helper came later and was run as `serve`, by no child of the boot.
    expect(existsSync(`${root}/helper.log`)).toBe(false);
    const [parent, ...argv] = (await until('the hand-over', () => (existsSync(`${root}/helper.log`) ? readFileSync(`${root}/helper.log`, 'utf8').trim() : undefined))).split(' ');
    expect(argv).toEqual(['serve', `${root}/underlay.sock`, '3', '180']);
    expect(Number(parent)).not.toBe(booted);
  });

  it('tries again when the helper cannot be run yet (the engine still writing it: ETXTBSY, 126)', async () => {
    const root = mkdtempSync('/tmp/overlab-switch-boot-');
    writeFileSync(`${root}/netns-share`, `#!/bin/bash\nif [[ ! -e ${root}/tried ]]; then touch ${root}/tried; exit 126; fi\nprintf '%s\\n' "$*" >${root}/helper.log\n`);
    chmodSync(`${root}/netns-share`, 0o755);
    expect((await run(root, ['init', 'control', '1', 'underlay'])).status).toBe(0);
    expect(await until('the hand-over', () => (existsSync(`${root}/helper.log`) ? readFileSync(`${root}/helper.log`, 'utf8').trim() : undefined))).toBe(`serve ${root}/underlay.sock 1 180`);
    expect(existsSync(`${root}/tried`)).toBe(true);
  });

  it('says which bridge it could not make and still hands over (the node needing it then names it); no count, no hand-over', async () => {
    const root = mkdtempSync('/tmp/overlab-switch-boot-');
    writeFileSync(`${root}/netns-share`, `#!/bin/bash\nprintf '%s\\n' "$*" >${root}/helper.log\n`);
    chmodSync(`${root}/netns-share`, 0o755);
    const r = await run(root, ['init', 'control', '2', 'bad', 'good']);
    expect(r.stderr).toContain('overlab-boot: the bridge bad could not be made');
    expect(readFileSync(`${root}/ip.log`, 'utf8')).toContain('link add name good type bridge');
    await until('the hand-over', () => (existsSync(`${root}/helper.log`) ? true : undefined));
    const none = mkdtempSync('/tmp/overlab-switch-boot-');
    writeFileSync(`${none}/netns-share`, `#!/bin/bash\ntouch ${none}/ran\n`);
    chmodSync(`${none}/netns-share`, 0o755);
    expect((await run(none, ['init', 'control', '0'])).status).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(`${none}/ran`)).toBe(false);
  });
});
