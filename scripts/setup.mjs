#!/usr/bin/env node
// `npm run setup`: install dependencies, fetch the Electron binary if it can be had, build.
//
// Electron's own postinstall downloads its binary from GitHub and fails the whole `npm install`
// where that is unreachable (offline machines, locked-down CI). So the install skips it, and we
// try the download separately: on a normal machine the desktop app is ready; where it fails,
// browser mode (`npm start` falls back to it) still works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env }, shell: process.platform === 'win32' });
  return r.status ?? 1;
}

// onnxruntime-node's postinstall fetches its CUDA provider (~400 MB, from NuGet, Linux x64) and
// fails the whole install where that is unreachable. Its npm package already carries the CPU
// builds for every platform, DirectML and CoreML: skip the download here and try it below, like
// Electron's. A user who set ONNXRUNTIME_NODE_INSTALL (e.g. cuda12) gets what they asked for.
const ortInstall = process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip';
const ci = existsSync('package-lock.json') && process.env.CI ? 'ci' : 'install';
if (run(npm, [ci, '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: ortInstall }) !== 0) {
  console.error('setup: npm install failed');
  process.exit(1);
}

// ONNX Runtime's CUDA provider, only where an NVIDIA driver is loaded (Linux x64): it needs
// CUDA 12 and cuDNN 9 on the library path at run time; without them the app uses the CPU and
// says why (see README, "Engines and devices").
const nvidia = process.platform === 'linux' && process.arch === 'x64' && existsSync('/proc/driver/nvidia/version');
// ONNXRUNTIME_NODE_INSTALL=skip set by the user (CI does) means no download at all.
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

process.exit(run(npm, ['run', 'build']));
