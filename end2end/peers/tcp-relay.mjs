// A TCP relay in front of the kube-apiserver for the browser tests: `POST /stop` on the control
// port cuts every connection and stops listening (for Heimdall, the API server went away);
// `POST /start` listens on the same port again. The API server itself keeps running.
//
//   UPSTREAM=127.0.0.1:6443 LISTEN_PORT=7000 CONTROL_PORT=7001 node tcp-relay.mjs
import net from 'node:net';
import http from 'node:http';

const [upHost, upPort] = process.env.UPSTREAM.split(':');
const listenPort = Number(process.env.LISTEN_PORT);
const sockets = new Set();
let server = null;

function start() {
  if (server) return Promise.resolve();
  server = net.createServer((client) => {
    const upstream = net.connect(Number(upPort), upHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
}

function stop() {
  if (!server) return Promise.resolve();
  const closing = new Promise((resolve) => server.close(resolve));
  for (const s of sockets) s.destroy();
  server = null;
  return closing;
}

await start();
http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/stop') await stop();
  else if (req.method === 'POST' && req.url === '/start') await start();
  else if (req.url !== '/state') { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ listening: server !== null }));
}).listen(Number(process.env.CONTROL_PORT), '127.0.0.1');
