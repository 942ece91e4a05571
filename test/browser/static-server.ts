// A tiny static server on 127.0.0.1 (a random port) for the browser tests: http://127.0.0.1 is a
// secure context, which WebGPU requires (about:blank and file: pages get no navigator.gpu).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticRoute {
  body: string | Uint8Array;
  type: string;
}

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves exactly `routes` (URL path to content); anything else is a 404. */
export async function serveStatic(routes: Record<string, StaticRoute>): Promise<StaticServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const route = routes[path];
    if (!route || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : route.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
