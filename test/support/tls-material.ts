// A certificate authority, a server certificate and a client certificate made by openssl for one
// test, in the layout DOCKER_CERT_PATH uses (ca.pem, cert.pem, key.pem) — the client's in one
// directory, the server's in another.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  dir: string;
  /** ca.pem, cert.pem, key.pem for the client (DOCKER_CERT_PATH). */
  clientDir: string;
  /** ca.pem, cert.pem, key.pem for the server. */
  serverDir: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** `serverNames`: subjectAltName entries, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
export function makeTlsMaterial(serverNames: string[], name = 'ca'): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'overlab-tls-'));
  const days = ['-days', '2'];
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-subj', `/CN=${name}`, ...days], dir);
  const sign = (who: string, subject: string, ext: string) => {
    writeFileSync(join(dir, `${who}.ext`), ext);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${who}-key.pem`, '-out', `${who}.csr`, '-subj', subject], dir);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${who}-cert.pem`, '-extfile', `${who}.ext`, ...days], dir);
  };
  sign('server', '/CN=engine', `subjectAltName=${serverNames.join(',')}\nextendedKeyUsage=serverAuth\n`);
  sign('client', '/CN=client', 'extendedKeyUsage=clientAuth\n');
  const place = (who: string) => {
    const to = join(dir, who);
    mkdirSync(to);
    copyFileSync(join(dir, 'ca.pem'), join(to, 'ca.pem'));
    copyFileSync(join(dir, `${who}-cert.pem`), join(to, 'cert.pem'));
    copyFileSync(join(dir, `${who}-key.pem`), join(to, 'key.pem'));
    return to;
  };
  return { dir, clientDir: place('client'), serverDir: place('server') };
}
