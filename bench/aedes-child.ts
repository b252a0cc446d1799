/**
 * aedes alone in a process, for bench/connections.ts: the broker library
 * the hub is built on, with nothing of ours — every login accepted without a
 * check, no ACL, sessions in memory. What it costs per connection and per
 * login is the floor under our broker's figures, measured in the same run
 * beside mosquitto. Prints `{"port":N}` once listening; answers an IPC `gc`
 * after a full garbage collection (node --expose-gc) with its heap; SIGTERM
 * stops it.
 *   node aedes-child.js
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker({ authenticate: (_client, _username, _password, done) => done(null, true) });
const server = createServer(aedes.handle);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
process.on('message', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed });
});
process.once('SIGTERM', () => {
  server.close();
  aedes.close(() => process.exit(0));
});
