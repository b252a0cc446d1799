/**
 * TLS material for the MQTTS listener: the operator's own key and certificate
 * when configured, otherwise a local CA and a server certificate generated on
 * first start under `{dataDir}/tls/` and reused afterwards.
 */
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { MimamoriError } from '../core/errors.js';

export interface TlsMaterial { key: string; cert: string; ca: string }

export interface TlsOptions { dataDir: string; keyFile?: string | undefined; certFile?: string | undefined; host?: string; now?: number }

const day = 24 * 3600_000;
/** Reissue the server certificate this long before it expires. */
const renewBefore = 30 * day;

function readPem(path: string, what: string, env: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new MimamoriError('MIMAMORI_ERR_CONFIG', `cannot read TLS ${what} ${path} (${env}): ${(err as Error).message}`);
  }
}

function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  // node:crypto generates RSA keys natively in milliseconds; forge's pure JS takes seconds.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

/**
 * A positive 16-byte serial (RFC 5280 §4.1.2.2) whose first byte is 0x01–0x7f.
 * forge writes the hex as the INTEGER's content and drops at most one leading
 * zero, and OpenSSL 3 refuses a certificate whose serial keeps another
 * ("illegal padding"): with a free first byte, one certificate in 65,536
 * could not be loaded.
 */
export function certificateSerial(bytes: Buffer = randomBytes(16)): string {
  const out = Buffer.from(bytes);
  out[0] = ((out[0] ?? 0) & 0x7f) || 0x01;
  return out.toString('hex');
}

/** OpenSSL (what the listener and the devices use) can read this certificate. */
function opensslReads(pem: string): boolean {
  try { new X509Certificate(pem); return true; } catch { return false; }
}

function createCa(now: number): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = certificateSerial();
  cert.validity.notBefore = new Date(now - day);
  cert.validity.notAfter = new Date(now + 10 * 365 * day);
  const subject = [{ name: 'commonName', value: `mimamori local CA ${hostname()}` }, { name: 'organizationName', value: 'mimamori' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

function createServerCert(ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }, host: string, now: number): { cert: string; key: string } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = certificateSerial();
  cert.validity.notBefore = new Date(now - day);
  cert.validity.notAfter = new Date(now + 825 * day);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer(ca.cert.subject.attributes);
  const names = new Set(['localhost', hostname(), host]);
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [{ type: 7, ip: '127.0.0.1' }];
  for (const name of names) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) { if (name !== '127.0.0.1') altNames.push({ type: 7, ip: name }); }
    else if (name !== '0.0.0.0' && name !== '::' && name.length > 0) altNames.push({ type: 2, value: name });
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

function writeSecret(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600); // mode is ignored when the file already existed
}

/**
 * Returns PEM key, certificate and the CA devices should trust.
 *
 * Generated files: `ca.pem`, `ca-key.pem` (0600, kept so the server
 * certificate can be reissued), `server-key.pem` (0600), `server.pem`.
 */
export function loadOrCreateTls(opts: TlsOptions): TlsMaterial {
  if (opts.keyFile || opts.certFile) {
    if (!opts.keyFile || !opts.certFile) {
      throw new MimamoriError('MIMAMORI_ERR_CONFIG', 'set both MIMAMORI_TLS_KEY_FILE and MIMAMORI_TLS_CERT_FILE, or neither to use a generated certificate');
    }
    const key = readPem(opts.keyFile, 'key', 'MIMAMORI_TLS_KEY_FILE');
    const cert = readPem(opts.certFile, 'certificate', 'MIMAMORI_TLS_CERT_FILE');
    // With an operator's certificate, devices trust whatever chain it carries.
    return { key, cert, ca: cert };
  }
  const now = opts.now ?? Date.now();
  const dir = join(opts.dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = { ca: join(dir, 'ca.pem'), caKey: join(dir, 'ca-key.pem'), key: join(dir, 'server-key.pem'), cert: join(dir, 'server.pem') };

  // Each file is read once; what is returned is what is on disk.
  let ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  let caPem = existsSync(paths.ca) && existsSync(paths.caKey) ? readFileSync(paths.ca, 'utf8') : undefined;
  // A CA OpenSSL cannot read was never trusted by any device: make a new one.
  if (caPem !== undefined && opensslReads(caPem)) {
    ca = { cert: forge.pki.certificateFromPem(caPem), key: forge.pki.privateKeyFromPem(readFileSync(paths.caKey, 'utf8')) as forge.pki.rsa.PrivateKey };
  } else {
    ca = createCa(now);
    caPem = forge.pki.certificateToPem(ca.cert);
    writeSecret(paths.caKey, forge.pki.privateKeyToPem(ca.key));
    writeFileSync(paths.ca, caPem);
  }

  let server: { cert: string; key: string } | undefined;
  const certPem = existsSync(paths.key) && existsSync(paths.cert) ? readFileSync(paths.cert, 'utf8') : undefined;
  if (certPem !== undefined) {
    const existing = forge.pki.certificateFromPem(certPem);
    const expiresSoon = existing.validity.notAfter.getTime() - renewBefore < now;
    let signedByCa = false;
    try { signedByCa = ca.cert.verify(existing); } catch { signedByCa = false; }
    if (!expiresSoon && signedByCa && opensslReads(certPem)) server = { cert: certPem, key: readFileSync(paths.key, 'utf8') };
  }
  if (server === undefined) {
    server = createServerCert(ca, opts.host ?? 'localhost', now);
    writeSecret(paths.key, server.key);
    writeFileSync(paths.cert, server.cert);
  }
  return { key: server.key, cert: server.cert, ca: caPem };
}
