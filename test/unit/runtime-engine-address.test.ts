// Engine addresses as the docker CLI spells them, Docker contexts read from their files, which one
// wins, and the API version negotiated from /version. Pure (files in a temporary directory).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayAddress, parseEngineAddress } from '../../src/runtime/engine-address.js';
import { contextId } from '../../src/runtime/docker-context.js';
import { resolveEngineTarget } from '../../src/runtime/engine-endpoint.js';
import { engineKind, negotiateApiVersion } from '../../src/runtime/api-version.js';
import { exitCodeFor, OverlabError } from '../../src/base/errors.js';

const env = { what: 'DOCKER_HOST', kind: 'environment' as const };
const flag = { what: '--engine b', kind: 'input' as const };

function refusal(f: () => unknown): OverlabError {
  try {
    f();
  } catch (error) {
    return error as OverlabError;
  }
  throw new Error('expected a refusal');
}

describe('parseEngineAddress', () => {
  it('reads the three forms with the docker CLI default ports', () => {
    expect(parseEngineAddress('unix:///run/docker.sock', env)).toEqual({ kind: 'unix', path: '/run/docker.sock' });
    expect(parseEngineAddress('tcp://10.0.0.2', env)).toEqual({ kind: 'tcp', host: '10.0.0.2', port: 2375 });
    expect(parseEngineAddress('tcp://10.0.0.2', env, { verify: true, certDir: '/c' })).toEqual({ kind: 'tcp', host: '10.0.0.2', port: 2376, tls: { verify: true, certDir: '/c' } });
    expect(parseEngineAddress('tcp://engine-b.lan:12376/', env)).toEqual({ kind: 'tcp', host: 'engine-b.lan', port: 12376 });
    expect(parseEngineAddress('ssh://alice@10.0.0.3:2222', env)).toEqual({ kind: 'ssh', host: '10.0.0.3', user: 'alice', port: 2222 });
    expect(parseEngineAddress('ssh://build-box', env)).toEqual({ kind: 'ssh', host: 'build-box' });
    expect(parseEngineAddress('tcp://[fd00::2]:2376', env)).toEqual({ kind: 'tcp', host: '[fd00::2]', port: 2376 });
  });

  it('names an engine in messages as overlab always has (a socket by its path), others as URLs', () => {
    expect(displayAddress({ kind: 'unix', path: '/var/run/docker.sock' })).toBe('/var/run/docker.sock');
    expect(displayAddress({ kind: 'tcp', host: '10.0.0.2', port: 2376 })).toBe('tcp://10.0.0.2:2376');
    expect(displayAddress({ kind: 'ssh', host: 'h', user: 'u', port: 2222 })).toBe('ssh://u@h:2222');
    expect(displayAddress({ kind: 'ssh', host: 'h' })).toBe('ssh://h');
  });

  it('refuses what ssh would read as an option, paths, users on tcp, and other schemes, saying why', () => {
    const dash = refusal(() => parseEngineAddress('ssh://-oProxyCommand=touch${IFS}x', flag));
    expect(dash.message).toContain('has no usable host name');
    expect(exitCodeFor(dash)).toBe(2);
    expect(refusal(() => parseEngineAddress('ssh://u@h/run/docker.sock', env)).message).toContain('has a path');
    expect(refusal(() => parseEngineAddress('tcp://u@h:2376', env)).message).toContain('tcp:// engines authenticate with TLS certificates');
    expect(refusal(() => parseEngineAddress('tcp://h:99999', env)).message).toContain('not a number from 1 to 65535');
    expect(refusal(() => parseEngineAddress('ssh://bad;user@h', env)).message).toContain('plain user name');
    const pipe = refusal(() => parseEngineAddress('npipe:////./pipe/docker_engine', env));
    expect(pipe.message).toBe('DOCKER_HOST=npipe:////./pipe/docker_engine is not an engine address overlab can reach');
    expect(pipe.hint).toContain('Windows');
    expect(exitCodeFor(pipe)).toBe(3);
    expect(refusal(() => parseEngineAddress('unix://relative.sock', env)).message).toContain('not a unix socket path');
  });
});

describe('Docker contexts and which engine wins', () => {
  let config: string;
  const context = (name: string, host: string, options: { tls?: boolean; skipVerify?: boolean } = {}) => {
    const id = contextId(name);
    mkdirSync(join(config, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(config, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: Boolean(options.skipVerify) } } }));
    if (options.tls) {
      mkdirSync(join(config, 'contexts', 'tls', id, 'docker'), { recursive: true });
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(config, 'contexts', 'tls', id, 'docker', f), 'x');
    }
  };

  beforeEach(() => {
    config = mkdtempSync(join(tmpdir(), 'overlab-docker-config-'));
  });
  afterEach(() => rmSync(config, { recursive: true, force: true }));

  it('keys a context by the SHA-256 of its name, as the docker CLI does', () => {
    expect(contextId('default')).toBe('37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f');
  });

  it('follows the docker CLI: --context, then DOCKER_HOST, then DOCKER_CONTEXT, then currentContext, then the local socket', () => {
    context('flagged', 'ssh://u@flag-host');
    context('from-env', 'tcp://10.1.0.1:2376', { tls: true });
    context('current', 'unix:///run/current.sock');
    writeFileSync(join(config, 'config.json'), JSON.stringify({ currentContext: 'current' }));
    const base = { DOCKER_CONFIG: config };
    expect(resolveEngineTarget({ ...base, DOCKER_HOST: 'unix:///run/h.sock', DOCKER_CONTEXT: 'from-env' }, { context: 'flagged' })).toEqual({ address: { kind: 'ssh', host: 'flag-host', user: 'u' }, context: 'flagged' });
    expect(resolveEngineTarget({ ...base, DOCKER_HOST: 'unix:///run/h.sock', DOCKER_CONTEXT: 'from-env' })).toEqual({ address: { kind: 'unix', path: '/run/h.sock' } });
    expect(resolveEngineTarget({ ...base, DOCKER_CONTEXT: 'from-env' })).toEqual({
      address: { kind: 'tcp', host: '10.1.0.1', port: 2376, tls: { verify: true, certDir: join(config, 'contexts', 'tls', contextId('from-env'), 'docker') } },
      context: 'from-env',
    });
    expect(resolveEngineTarget(base)).toEqual({ address: { kind: 'unix', path: '/run/current.sock' }, context: 'current' });
    rmSync(join(config, 'config.json'));
    expect(resolveEngineTarget(base)).toEqual({ address: { kind: 'unix', path: '/var/run/docker.sock' } });
    expect(resolveEngineTarget({ ...base, DOCKER_CONTEXT: 'default', DOCKER_HOST: '' })).toEqual({ address: { kind: 'unix', path: '/var/run/docker.sock' } });
  });

  it('uses DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a tcp:// DOCKER_HOST, ~/.docker when no path is given', () => {
    expect(resolveEngineTarget({ DOCKER_CONFIG: config, DOCKER_HOST: 'tcp://10.0.0.9', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }).address).toEqual({ kind: 'tcp', host: '10.0.0.9', port: 2376, tls: { verify: true, certDir: '/certs' } });
    expect(resolveEngineTarget({ DOCKER_CONFIG: config, DOCKER_HOST: 'tcp://10.0.0.9', DOCKER_TLS: '1' }).address).toEqual({ kind: 'tcp', host: '10.0.0.9', port: 2376, tls: { verify: false, certDir: config } });
    expect(resolveEngineTarget({ DOCKER_CONFIG: config, DOCKER_HOST: 'tcp://10.0.0.9' }).address).toEqual({ kind: 'tcp', host: '10.0.0.9', port: 2375 });
  });

  it('a context that skips verification still encrypts with its own material', () => {
    context('lax', 'tcp://10.2.0.1:2376', { tls: true, skipVerify: true });
    expect(resolveEngineTarget({ DOCKER_CONFIG: config }, { context: 'lax' }).address).toMatchObject({ tls: { verify: false } });
  });

  it('a missing context names the file it looked for; exit 2 from a flag, 3 from the environment', () => {
    const fromFlag = refusal(() => resolveEngineTarget({ DOCKER_CONFIG: config }, { context: 'nope' }));
    expect(fromFlag.message).toBe(`Docker context "nope" (--context) does not exist: there is no ${join(config, 'contexts', 'meta', contextId('nope'), 'meta.json')}`);
    expect(exitCodeFor(fromFlag)).toBe(2);
    const fromEnv = refusal(() => resolveEngineTarget({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'nope' }));
    expect(exitCodeFor(fromEnv)).toBe(3);
    expect(fromEnv.hint).toContain('docker context ls');
    expect(refusal(() => resolveEngineTarget({ DOCKER_CONFIG: config }, { context: '../etc' })).message).toContain('which is not a context name');
  });

  it('a context whose endpoint is unusable says which context', () => {
    context('odd', 'npipe:////./pipe/x');
    expect(refusal(() => resolveEngineTarget({ DOCKER_CONFIG: config }, { context: 'odd' })).message).toContain('the docker endpoint of context "odd"');
  });
});

describe('negotiateApiVersion', () => {
  it('speaks the engine\'s newest, capped at the newest overlab knows, raised to the engine\'s oldest', () => {
    expect(negotiateApiVersion({ ApiVersion: '1.41', MinAPIVersion: '1.12' }, 'e')).toBe('1.41');
    expect(negotiateApiVersion({ ApiVersion: '1.49', MinAPIVersion: '1.24' }, 'e')).toBe('1.47');
    expect(negotiateApiVersion({ ApiVersion: '1.52', MinAPIVersion: '1.48' }, 'e')).toBe('1.48');
    expect(negotiateApiVersion({ ApiVersion: '1.40' }, 'e')).toBe('1.40');
  });

  it('refuses an engine too old for what overlab uses, by name and version', () => {
    const old = refusal(() => negotiateApiVersion({ ApiVersion: '1.39', Version: '18.09.1', Components: [{ Name: 'Engine', Version: '18.09.1' }] }, 'ssh://u@old-box'));
    expect(old.message).toBe('the engine at ssh://u@old-box (Docker 18.09.1) speaks Engine API 1.39; overlab needs 1.40 or newer');
    expect(exitCodeFor(old)).toBe(3);
    expect(refusal(() => negotiateApiVersion({}, '/s.sock')).message).toContain('does not say which Engine API version');
  });

  it('tells Podman from Docker by the components /version lists', () => {
    expect(engineKind({ Version: '4.3.1', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] })).toEqual({ kind: 'podman', version: '4.3.1' });
    expect(engineKind({ Version: '20.10.24+dfsg1', Components: [{ Name: 'Engine', Version: '20.10.24+dfsg1' }] })).toEqual({ kind: 'docker', version: '20.10.24+dfsg1' });
  });
});
