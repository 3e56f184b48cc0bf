import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { InstanceLockedError, acquireInstanceLock, openStore, readInstanceLock } from '../../core/store/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

function deadPid(): number {
  // A process that has exited: its pid is (almost certainly) not running any more.
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('instance lock', () => {
  it('refuses a second instance with a clear message, and allows it after release', () => {
    const db = path.join(dir, 'c.db');
    const lock = acquireInstanceLock(db);
    expect(fs.existsSync(`${db}.lock`)).toBe(true);
    expect(readInstanceLock(db)).toMatchObject({ pid: process.pid, host: os.hostname() });

    let err: unknown;
    try {
      acquireInstanceLock(db);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InstanceLockedError);
    expect((err as InstanceLockedError).holderPid).toBe(process.pid);
    expect((err as InstanceLockedError).userMessage).toMatch(/already open/);

    lock.release();
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
    const again = acquireInstanceLock(db);
    again.release();
  });

  it('refuses while another live process holds the lock', () => {
    const db = path.join(dir, 'c.db');
    // The parent of this test process is alive for sure.
    const holder = { app: 'constellate', pid: process.ppid, host: os.hostname(), token: 'other', procStart: null, acquiredAt: '' };
    fs.writeFileSync(`${db}.lock`, JSON.stringify(holder));
    expect(() => acquireInstanceLock(db)).toThrow(InstanceLockedError);
    // `force` takes it anyway (user confirmed the other instance is gone).
    const forced = acquireInstanceLock(db, { force: true });
    expect(readInstanceLock(db)!.pid).toBe(process.pid);
    forced.release();
  });

  it('takes over a stale lock left by a killed process', () => {
    const db = path.join(dir, 'c.db');
    const pid = deadPid();
    fs.writeFileSync(
      `${db}.lock`,
      JSON.stringify({ app: 'constellate', pid, host: os.hostname(), token: 'dead', procStart: null, acquiredAt: '' }),
    );
    const lock = acquireInstanceLock(db);
    expect(readInstanceLock(db)!.pid).toBe(process.pid);
    expect(readInstanceLock(db)!.token).toBe(lock.info.token);
    lock.release();
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
    // Nothing of the lock is left: only the (empty) database it made to lock it by identity.
    expect(fs.readdirSync(dir)).toEqual(['c.db']);
    expect(fs.statSync(db).size).toBe(0);
  });

  it('treats a lock of its own pid that it does not hold as stale (restarted in a container)', () => {
    const db = path.join(dir, 'c.db');
    fs.writeFileSync(
      `${db}.lock`,
      JSON.stringify({ app: 'constellate', pid: process.pid, host: os.hostname(), token: 'previous', procStart: null, acquiredAt: '' }),
    );
    const lock = acquireInstanceLock(db);
    lock.release();
  });

  it('a garbage lock file is stale once old, but a fresh one is respected', () => {
    const db = path.join(dir, 'c.db');
    fs.writeFileSync(`${db}.lock`, '');
    expect(() => acquireInstanceLock(db)).toThrow(InstanceLockedError);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${db}.lock`, old, old);
    acquireInstanceLock(db).release();
  });

  it('is refused across processes and released when the holder exits', () => {
    const db = path.join(dir, 'c.db');
    const lock = acquireInstanceLock(db);
    const script = `
      import('${pathToImport('core/store/lock.ts')}').then((m) => {
        try { m.acquireInstanceLock(${JSON.stringify(db)}); console.log('acquired'); }
        catch (e) { console.log(e.name); }
      });`;
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: process.cwd(), encoding: 'utf8' }).stdout.trim();
    expect(run()).toBe('InstanceLockedError');
    lock.release();
    // The child takes it and exits without releasing: its exit hook removes the file.
    expect(run()).toBe('acquired');
    expect(fs.existsSync(`${db}.lock`)).toBe(false);

    // A holder killed with SIGKILL leaves its lock behind; it must not block.
    const killer = `
      import('${pathToImport('core/store/lock.ts')}').then((m) => {
        m.acquireInstanceLock(${JSON.stringify(db)});
        process.kill(process.pid, 'SIGKILL');
      });`;
    spawnSync(process.execPath, ['--import', 'tsx', '-e', killer], { cwd: process.cwd() });
    expect(fs.existsSync(`${db}.lock`)).toBe(true);
    const taken = acquireInstanceLock(db);
    expect(readInstanceLock(db)!.pid).toBe(process.pid);
    taken.release();
  });
});

describe('one writer per database file, whatever its path (issue 22, case 1)', () => {
  it('refuses a second writer through a hard link, a symbolic link, or after the file was moved, naming the path the holder uses', () => {
    const a = path.join(dir, 'A', 'c.db');
    const b = path.join(dir, 'B', 'c.db');
    fs.mkdirSync(path.dirname(a));
    fs.mkdirSync(path.dirname(b));
    openStore(a).close();
    fs.linkSync(a, b);
    fs.symlinkSync(a, path.join(dir, 'link.db'));
    const lock = acquireInstanceLock(a);
    const refused = (p: string) => {
      try {
        acquireInstanceLock(p).release();
      } catch (err) {
        return err as InstanceLockedError;
      }
      return null;
    };
    const viaHardLink = refused(b);
    expect(viaHardLink).toBeInstanceOf(InstanceLockedError);
    expect(viaHardLink!.holderPid).toBe(process.pid);
    expect(viaHardLink!.holderPath).toBe(fs.realpathSync(a));
    expect(viaHardLink!.userMessage).toBe(
      `Constellate is already open on this library in process ${process.pid} on ${os.hostname()}, through ${fs.realpathSync(a)} (the same file under another name) ` +
        '(the app, `constellate serve` or a `constellate cluster` run). Close it or let it finish, then try again.',
    );
    expect(fs.existsSync(`${b}.lock`)).toBe(false); // the refused one leaves nothing
    expect(refused(path.join(dir, 'link.db'))).toBeInstanceOf(InstanceLockedError);
    // Moved while open: the holder still writes it.
    const moved = path.join(dir, 'moved.db');
    fs.renameSync(b, moved);
    expect(refused(moved)).toBeInstanceOf(InstanceLockedError);
    lock.release();
    acquireInstanceLock(moved).release();
  });

  it('is refused across processes through a hard link', () => {
    const a = path.join(dir, 'a.db');
    const b = path.join(dir, 'b.db');
    openStore(a).close();
    fs.linkSync(a, b);
    const lock = acquireInstanceLock(a);
    const script = `
      import('${pathToImport('core/store/lock.ts')}').then((m) => {
        try { m.acquireInstanceLock(${JSON.stringify(b)}); console.log('acquired'); }
        catch (e) { console.log(e.name, e.holderPid); }
      });`;
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: process.cwd(), encoding: 'utf8' }).stdout.trim();
    expect(run()).toBe(`InstanceLockedError ${process.pid}`);
    lock.release();
    expect(run()).toBe('acquired');
  });
});

function pathToImport(rel: string): string {
  return new URL(`../../${rel}`, import.meta.url).href;
}
