/** `npm start`: desktop app where the Electron binary exists, else one line and browser mode. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain .mjs script without type declarations
import { findElectron, startCommand } from '../../scripts/start.mjs';
import { testTempDir } from '../helpers/tempDir.js';

const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

/** A project folder with a fake `electron` package: with or without a downloaded binary. */
function fakeProject(binary: boolean): string {
  const dir = testTempDir('constellate-start-');
  writeFileSync(join(dir, 'package.json'), '{"name":"x"}');
  const pkg = join(dir, 'node_modules', 'electron');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"electron","main":"index.js"}');
  // index.js would try to download; the launcher must never load it.
  writeFileSync(join(pkg, 'index.js'), 'throw new Error("downloading")');
  if (binary) {
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    writeFileSync(join(pkg, 'dist', 'electron'), '');
  }
  return dir;
}

describe('npm start', () => {
  it('launches the Electron binary on the app when it is present', () => {
    const dir = fakeProject(true);
    expect(findElectron(dir, {})).toEqual({ ok: true, path: join(dir, 'node_modules', 'electron', 'dist', 'electron') });
    const cmd = startCommand(['--trace-warnings'], dir, {});
    expect(cmd).toMatchObject({
      mode: 'desktop',
      command: join(dir, 'node_modules', 'electron', 'dist', 'electron'),
      args: [dir, '--trace-warnings'],
      note: null,
    });
  });

  it('falls back to browser mode, saying why in one line, when the binary was not downloaded', () => {
    const dir = fakeProject(false);
    expect(findElectron(dir, {})).toEqual({ ok: false, reason: 'its binary was never downloaded' });
    const cmd = startCommand([], dir, {});
    expect(cmd.mode).toBe('browser');
    expect(cmd.args).toEqual([join(dir, 'bin', 'constellate.js'), 'serve', '--demo']);
    expect(cmd.note).toBe('Electron is not available on this machine (its binary was never downloaded); starting browser mode instead.');
  });

  it('--browser forces browser mode and passes the rest on', () => {
    expect(startCommand(['--browser', '--port', '9000'], fakeProject(true), {})).toMatchObject({
      mode: 'browser',
      note: null,
      args: [expect.stringMatching(/constellate\.js$/), 'serve', '--demo', '--port', '9000'],
    });
  });

  it('on this machine (no Electron binary) prints one line and runs `constellate serve --demo`', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'start.mjs')], {
      env: { ...process.env, CONSTELLATE_START_DRY_RUN: '1', ELECTRON_OVERRIDE_DIST_PATH: '' },
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^Electron is not available on this machine \(.+\); starting browser mode instead\.$/);
    expect(lines[1]).toBe(`would run: ${process.execPath} ${join(root, 'bin', 'constellate.js')} serve --demo`);
    expect(lines).toHaveLength(2);
  });
});
