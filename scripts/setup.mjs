#!/usr/bin/env node
// `npm run setup`: install dependencies, fetch the Electron binary if it can be had, build.
//
// Electron's own postinstall downloads its binary from GitHub and fails the whole `npm install`
// where that is unreachable (offline machines, locked-down CI). So the install skips it, and we
// try the download separately: on a normal machine the desktop app is ready; where it fails,
// browser mode (`npm start` falls back to it) still works.
//
// What a newcomer sees: npm's "Unsupported engine" warnings are about dependencies' own tooling
// (they declare node >= 22 for their development, and run on 20.9+), so they are summed up in
// one line that says so instead of six that read as "your Node is too old"; before the install,
// a note that native modules may compile from source for many minutes with no output, and a
// line every minute while npm is silent; at the end, which ML engine was installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * npm's output lines, less its EBADENGINE warnings, and the one line that replaces them: which
 * packages, and that Constellate itself needs Node `needs` (package.json engines).
 */
export function summariseEngineWarnings(lines, needs = '>=20.9', node = process.version) {
  const packages = new Set();
  const kept = [];
  for (const line of lines) {
    const m = /EBADENGINE\s+Unsupported engine\s*\{?\s*package:\s*'([^']+)'/.exec(line) ?? /EBADENGINE.*package:\s*'([^']+)'/.exec(line);
    if (m) packages.add(m[1].replace(/@[^@]*$/, ''));
    else if (!/EBADENGINE/.test(line)) kept.push(line);
  }
  if (packages.size === 0) return { kept, summary: null };
  const names = [...packages].sort();
  const summary = `setup: ${names.length} ${names.length === 1 ? 'dependency declares' : 'dependencies declare'} a newer Node for ${names.length === 1 ? 'its' : 'their'} own tools (${names.join(', ')}): npm warns "Unsupported engine", but Constellate needs Node ${needs} and you have ${node}, which is fine.`;
  return { kept, summary };
}

/** The ML engines installed in `root`'s node_modules, fastest first (what the app will pick from; see core/embed/backend.ts). */
export function installedEngines(root) {
  const nm = path.join(root, 'node_modules');
  const hasBinary = (dir) => hasFile(dir, (name) => name.endsWith('.node'));
  const engines = [];
  if (hasBinary(path.join(nm, 'onnxruntime-node'))) {
    const cuda = hasCudaProvider(path.join(nm, 'onnxruntime-node'));
    engines.push(
      `ONNX Runtime (${cuda ? 'CUDA where CUDA 12 and cuDNN 9 load, else ' : ''}${process.platform === 'win32' ? 'DirectML or ' : process.platform === 'darwin' ? 'CoreML or ' : ''}CPU)`,
    );
  }
  if (hasBinary(path.join(nm, '@tensorflow/tfjs-node-gpu'))) engines.push('TensorFlow native with CUDA (GPU)');
  if (hasBinary(path.join(nm, '@tensorflow/tfjs-node'))) engines.push('TensorFlow native (CPU)');
  if (existsSync(path.join(nm, '@tensorflow/tfjs-backend-wasm'))) engines.push('TensorFlow.js WebAssembly (CPU)');
  return engines;
}

/** Whether onnxruntime-node's CUDA provider library was fetched (its install step with cuda12). */
function hasCudaProvider(dir) {
  return hasFile(dir, (name) => /onnxruntime_providers_cuda/.test(name));
}

/** Whether any file under `dir` (at any depth) has a name that passes `test`. */
function hasFile(dir, test) {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory()) stack.push(path.join(d, e.name));
      else if (test(e.name)) return true;
    }
  }
  return false;
}

/** Runs npm, filtering its engine warnings, and saying every minute that it is still at work while it prints nothing. */
function install(args, env) {
  return new Promise((resolve) => {
    const child = spawn(npm, args, {
      env: { ...process.env, ...env },
      stdio: ['inherit', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    });
    const started = Date.now();
    let last = Date.now();
    const engineLines = [];
    const forward = (stream, out) => {
      let rest = '';
      stream.on('data', (chunk) => {
        last = Date.now();
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (/EBADENGINE/.test(line)) engineLines.push(line);
          else out.write(`${line}\n`);
        }
      });
      stream.on('end', () => rest && out.write(rest));
    };
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    const tick = setInterval(() => {
      if (Date.now() - last < 60_000) return;
      last = Date.now();
      const min = Math.round((Date.now() - started) / 60_000);
      console.log(`setup: still installing (${min} min): npm is most likely compiling a native module from source; this is not stuck.`);
    }, 5_000);
    child.on('close', (code) => {
      clearInterval(tick);
      const { summary } = summariseEngineWarnings(engineLines);
      if (summary) console.log(summary);
      resolve(code ?? 1);
    });
  });
}

async function main() {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  console.log(
    'setup: installing dependencies from the npm registry. better-sqlite3 and hnswlib-node are native modules: ' +
      'npm fetches a prebuilt binary for your system where one can be downloaded; where none can (offline, an uncommon ' +
      'platform or Node version), they are compiled from source, which can take 2 to 20 minutes with little output.',
  );
  // onnxruntime-node's postinstall fetches its CUDA provider (~400 MB, from NuGet, Linux x64) and
  // fails the whole install where that is unreachable. Its npm package already carries the CPU
  // builds for every platform, DirectML and CoreML: skip the download here and try it below, like
  // Electron's. A user who set ONNXRUNTIME_NODE_INSTALL (e.g. cuda12) gets what they asked for.
  const ortInstall = process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip';
  const ci = existsSync('package-lock.json') && process.env.CI ? 'ci' : 'install';
  if (
    (await install([ci, '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: ortInstall })) !== 0
  ) {
    console.error('setup: npm install failed');
    process.exit(1);
  }

  // ONNX Runtime's CUDA provider, only where an NVIDIA driver is loaded (Linux x64): it needs
  // CUDA 12 and cuDNN 9 on the library path at run time; without them the app uses the CPU and
  // says why (README, "Engines and devices"). ONNXRUNTIME_NODE_INSTALL=skip set by the user (CI
  // does) means no download at all.
  const nvidia = process.platform === 'linux' && process.arch === 'x64' && existsSync('/proc/driver/nvidia/version');
  if (nvidia && process.env.ONNXRUNTIME_NODE_INSTALL === undefined && existsSync('node_modules/onnxruntime-node/script/install.js')) {
    const status = spawnSync(process.execPath, ['node_modules/onnxruntime-node/script/install.js'], {
      stdio: 'pipe',
      timeout: 600_000,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
    }).status;
    console.log(
      status === 0
        ? 'setup: ONNX Runtime CUDA provider installed (used where CUDA 12 and cuDNN 9 load).'
        : 'setup: the ONNX Runtime CUDA provider could not be downloaded here; embedding uses the CPU.',
    );
  }

  if (existsSync('node_modules/electron/install.js') && !process.env.CONSTELLATE_SKIP_ELECTRON) {
    const status = spawnSync(process.execPath, ['node_modules/electron/install.js'], { stdio: 'pipe', timeout: 300_000 }).status;
    console.log(
      status === 0
        ? 'setup: Electron binary ready (npm start opens the desktop app).'
        : 'setup: the Electron binary could not be downloaded here; npm start will use browser mode.',
    );
  }

  const built = spawnSync(npm, ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' }).status ?? 1;
  const engines = installedEngines(root);
  console.log(
    engines.length
      ? `setup: ML engine installed: ${engines[0]}${engines.length > 1 ? ` (also: ${engines.slice(1).join(', ')}; the app uses the fastest that loads)` : ''}.`
      : 'setup: no ML engine was installed: npm install did not finish.',
  );
  process.exit(built);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
