// `npm run demo:web`: serves the web demo (demo/web/index.html and its script, bundled at start)
// with the built core bundle dist/index.js on http://127.0.0.1 (a secure context, as WebGPU
// requires). Open the printed address in a browser with WebGPU.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleForBrowser } from './web/bundle.js';

// This file runs as dist/demo-web.js or demo/web-server.ts: either way the repository is one up.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const HELP = `Usage: npm run demo:web -- [--port N] [--host H]

Serves the wgsl-dice web demo: a segmentation model trained live on WebGPU in the browser.
  --port N     Port (default 8080; 0 picks a free one).
  --host H     Address to listen on (default 127.0.0.1).
  -h, --help   Show this help.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got ${values.port}`);

  const js = 'text/javascript; charset=utf-8';
  const routes: Record<string, { body: string | Buffer; type: string }> = {
    '/': { body: readFileSync(join(ROOT, 'demo/web/index.html')), type: 'text/html; charset=utf-8' },
    '/app.js': { body: await bundleForBrowser(join(ROOT, 'demo/web/app.ts')), type: js },
    '/dist/index.js': { body: readBuilt('dist/index.js'), type: js },
    '/dist/reference.js': { body: readBuilt('dist/reference.js'), type: js },
  };
  const server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://localhost').pathname];
    if (!route) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(route.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.host, resolve);
  });
  const address = server.address() as AddressInfo;
  console.log(`wgsl-dice web demo: http://${address.address}:${address.port}/`);
}

function readBuilt(file: string): Buffer {
  try {
    return readFileSync(join(ROOT, file));
  } catch {
    throw new Error(`${file} is missing: run \`npm run build\` (npm run demo:web does).`);
  }
}

main().catch((error: unknown) => {
  console.error(`demo:web: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
