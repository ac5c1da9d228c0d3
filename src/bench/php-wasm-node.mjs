// wlmake bench's runner for the Node column: runs one PHP command line on @php-wasm/node.
//
//   node php-wasm-node.mjs FOLDER VERSION HOST_DIR GUEST_DIR -- PHP_ARGS...
//
// FOLDER holds `node_modules/@php-wasm/node` (docs/benchmarks.md), VERSION is PHP's
// major.minor (`8.2`), HOST_DIR is mounted at GUEST_DIR so that PHP sees the scripts.
// PHP's output goes to this process's stdout/stderr; its exit status is ours.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [folder, version, hostDir, guestDir, separator, ...phpArgs] = process.argv.slice(2);
if (separator !== '--') {
	process.stderr.write('usage: node php-wasm-node.mjs FOLDER VERSION HOST_DIR GUEST_DIR -- PHP_ARGS...\n');
	process.exit(2);
}
const load = (name) =>
	import(pathToFileURL(join(folder, 'node_modules', name, 'index.js')).href);
const { PHP } = await load('@php-wasm/universal');
const { loadNodeRuntime, createNodeFsMountHandler } = await load('@php-wasm/node');

// The loader wants a process id (file locking, traces) before PHP starts.
const runtime = await loadNodeRuntime(version, { emscriptenOptions: { processId: process.pid } });
const php = new PHP(runtime);
await php.mount(guestDir, createNodeFsMountHandler(hostDir));
const response = await php.cli(['php', ...phpArgs]);
const copy = async (stream, out) => {
	for await (const chunk of stream) out.write(chunk);
};
await Promise.all([copy(response.stdout, process.stdout), copy(response.stderr, process.stderr)]);
const status = await response.exitCode;
// The runtime keeps handles open (its file lock manager): leave as soon as PHP is done.
process.exit(status);
