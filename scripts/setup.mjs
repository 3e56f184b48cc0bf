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

const ci = existsSync('package-lock.json') && process.env.CI ? 'ci' : 'install';
if (run(npm, [ci, '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }) !== 0) {
  console.error('setup: npm install failed');
  process.exit(1);
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
