// The one target of the proxy benchmarks (bench/proxy.ts, bench/proxy-soak.ts), so every proxy is
// measured in front of the same code: every HTTP request gets 1 KiB on a keep-alive connection, and
// every websocket message is echoed back.
//
// Standalone it listens on 127.0.0.1 and a free port and prints `{"port": N}` on stdout. When
// Lectern starts it as a single-user server (the in-process proxy's benchmark without the route API)
// it listens where JUPYTERHUB_SERVICE_URL says, as jupyterhub-singleuser would.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const body = Buffer.alloc(1024, 'x');
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  res.end(body);
});
// Longer than any pause in a benchmark, so the proxies' pools keep their connections.
server.keepAliveTimeout = 60_000;

// No compression: a proxy relays frames, and deflating them would measure zlib, not the proxy.
new WebSocketServer({ server, perMessageDeflate: false }).on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

const serviceUrl = process.env.JUPYTERHUB_SERVICE_URL ? new URL(process.env.JUPYTERHUB_SERVICE_URL) : undefined;
server.listen(serviceUrl ? Number(serviceUrl.port) : 0, serviceUrl?.hostname ?? '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
