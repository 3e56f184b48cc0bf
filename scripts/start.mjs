#!/usr/bin/env node
// `npm start`: the desktop app where the Electron binary is present, else browser mode.
//
//   npm start                 desktop app (or browser mode when Electron is unavailable)
//   npm start -- --browser    browser mode regardless
//
// Browser mode is `constellate serve --demo`, which prints the URL to open.
// We do not `require('electron')` to find the binary: when the binary is missing, that package's
// index.js tries to download it (and fails offline). We read its path.txt ourselves instead.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the Electron executable is, or why there is none. Never downloads anything. */
export function findElectron(projectRoot = root, env = process.env) {
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(join(projectRoot, 'package.json')).resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const bin = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(bin) ? { ok: true, path: bin } : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH has no ${bin}` };
  }
  if (!relative) return { ok: false, reason: 'its binary was never downloaded' };
  const bin = join(pkgDir, 'dist', relative);
  return existsSync(bin) ? { ok: true, path: bin } : { ok: false, reason: `${bin} is missing` };
}

/** The command `npm start` runs: [executable, args, note printed first (or null)]. */
export function startCommand(argv = process.argv.slice(2), projectRoot = root, env = process.env) {
  const browser = argv.includes('--browser');
  const rest = argv.filter((a) => a !== '--browser');
  const serve = {
    command: process.execPath,
    args: [join(projectRoot, 'bin', 'constellate.js'), 'serve', '--demo', ...rest],
    mode: 'browser',
  };
  if (browser) return { ...serve, note: null };
  const electron = findElectron(projectRoot, env);
  if (!electron.ok) {
    return { ...serve, note: `Electron is not available on this machine (${electron.reason}); starting browser mode instead.` };
  }
  return { command: electron.path, args: [projectRoot, ...rest], mode: 'desktop', note: null };
}

function main() {
  const cmd = startCommand();
  if (cmd.note) console.log(cmd.note);
  const built = cmd.mode === 'desktop' ? join(root, 'dist', 'electron', 'main.js') : join(root, 'dist', 'core', 'cli', 'main.js');
  if (process.env.CONSTELLATE_START_DRY_RUN) {
    console.log(`would run: ${[cmd.command, ...cmd.args].join(' ')}`);
    return;
  }
  if (!existsSync(built)) {
    console.error('constellate: not built yet. Run `npm run build` (or `npm run setup`) first.');
    process.exit(1);
  }
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make the Electron binary behave as plain Node
  const child = spawn(cmd.command, cmd.args, { stdio: 'inherit', env, cwd: root });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`constellate: could not start ${cmd.command}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
