// One HTTP request to an engine, whatever the way there: a unix socket, plain TCP, TCP with
// (mutual) TLS, or an ssh dial-stdio process. The engine client above it is the same for all.
import http from 'node:http';
import https from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { OverlabError } from '../base/errors.js';
import type { EngineAddress, EngineTls } from './engine-address.js';
import { SshDialStream, sshTurn } from './ssh-dial.js';

type Env = Record<string, string | undefined>;

export interface EngineTransport {
  /** Starts one request (the caller sets method, path, headers). */
  request(options: http.RequestOptions): http.ClientRequest;
}

interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** ca.pem, cert.pem and key.pem from the certificate directory; a missing one is named. */
function readTlsFiles(tls: EngineTls, engine: string): TlsFiles {
  const read = (name: string, required: boolean): Buffer | undefined => {
    const file = join(tls.certDir, name);
    try {
      return readFileSync(file);
    } catch (error) {
      if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new OverlabError(
        'environment',
        `cannot read ${file} for the TLS connection to ${engine}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        'DOCKER_CERT_PATH (or the engine\'s certPath) must be a directory with ca.pem, cert.pem and key.pem (`docker context create` and `dockerd --tlsverify` use the same three files)',
      );
    }
  };
  const files: TlsFiles = {};
  const ca = read('ca.pem', tls.verify);
  const cert = read('cert.pem', false);
  const key = read('key.pem', false);
  if (ca) files.ca = ca;
  if (cert && key) {
    files.cert = cert;
    files.key = key;
  } else if (cert || key) {
    throw new OverlabError('environment', `${tls.certDir} has ${cert ? 'cert.pem but no key.pem' : 'key.pem but no cert.pem'}: the client certificate for ${engine} needs both`, 'put both files of the client certificate in the directory');
  }
  return files;
}

/** An http.Agent whose connections are ssh dial-stdio processes. Unlike a socket, each costs a
 * process (and a channel of the shared ssh session), so answered connections are kept for the
 * next request (an exec's hijacked one is never reused); idle ones do not hold the command open. */
class SshAgent extends http.Agent {
  constructor(
    private readonly address: Extract<EngineAddress, { kind: 'ssh' }>,
    private readonly env: Env,
  ) {
    super({ keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 16, timeout: 30_000 });
  }
  override createConnection(_options: unknown, callback: (error: Error | null, socket?: Duplex) => void): undefined {
    sshTurn(this.address, this.env, () => new SshDialStream(this.address, this.env)).then(
      (stream) => callback(null, stream),
      (error: Error) => callback(error),
    );
    return undefined;
  }
}

/** `engine` is how messages name it (displayAddress). */
export function engineTransport(address: EngineAddress, engine: string, env: Env = process.env): EngineTransport {
  switch (address.kind) {
    case 'unix': {
      const agent = new http.Agent({ keepAlive: false });
      return { request: (options) => http.request({ ...options, socketPath: address.path, agent }) };
    }
    case 'tcp': {
      const host = address.host.replace(/^\[(.*)\]$/, '$1');
      if (!address.tls) {
        const agent = new http.Agent({ keepAlive: false });
        return { request: (options) => http.request({ ...options, host, port: address.port, agent }) };
      }
      const files = readTlsFiles(address.tls, engine);
      const agent = new https.Agent({
        keepAlive: false,
        ...files,
        rejectUnauthorized: address.tls.verify,
        // The certificate must name the host dialled (not the Host header node:http would use).
        checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
      });
      return { request: (options) => https.request({ ...options, host, port: address.port, agent, servername: isIP(host) ? '' : host }) };
    }
    case 'ssh': {
      const agent = new SshAgent(address, env);
      // The host does not matter to dial-stdio; the Host header names the engine as always.
      return { request: (options) => http.request({ ...options, host: 'docker', agent }) };
    }
  }
}
