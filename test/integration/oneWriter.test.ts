/**
 * One writer per database file, whatever its path (issue 22, case 1), with the real processes
 * of the attack: `constellate serve` on A/c.db, a group renamed over HTTP, then `constellate
 * cluster` on B/c.db, a hard link to the same file. Locked per path, cluster ran (exit 0) with
 * a WAL of its own, and once both stopped the rename was gone while integrity_check said ok.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildExportDb } from '../fixtures/exportDb.js';
import { assertBuilt, repoRoot, runCli } from '../helpers/cli.js';

/** Starts `constellate serve --db <db>`; resolves once it prints its URL. */
function serve(db: string): Promise<{ child: ChildProcess; base: string; token: string }> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'constellate.js'), 'serve', '--db', db, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(out);
      if (m) resolve({ child, base: m[1]!, token: m[2]! });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited (${code}) before it was up: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('one writer per database file, whatever its path', () => {
  it('cluster through a hard link is refused while serve holds the file, naming the path serve uses; the rename serve acknowledged is kept', async () => {
    const fx = buildExportDb();
    const b = path.join(fx.dir, 'B', 'c.db');
    mkdirSync(path.dirname(b));
    linkSync(fx.db, b);
    const server = await serve(fx.db);
    let stopped = false;
    try {
      const api = (method: string, body: unknown) =>
        fetch(`${server.base}api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-constellate-token': server.token },
          body: JSON.stringify(body),
        });
      const groups = (await (await api('listGroups', {})).json()) as { groups: Array<{ id: number; name: string }> };
      const cats = groups.groups.find((g) => g.name === 'Cats')!;
      expect((await api('renameGroup', { groupId: cats.id, name: 'Felines' })).status).toBe(200);

      const r = await runCli(['cluster', fx.library, '--db', b]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `constellate: Constellate is already open on this library in process ${server.child.pid} on ${hostname()}, ` +
          `through ${realpathSync(fx.db)} (the same file under another name) (the app, \`constellate serve\` or a \`constellate cluster\` run). Close it or let it finish, then try again.`,
      );
      const again = await runCli(['serve', '--db', b, '--port', '0'], { timeoutMs: 60_000 });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`through ${realpathSync(fx.db)}`);

      server.child.kill('SIGTERM');
      expect(await exited(server.child)).toBe(0);
      stopped = true;
    } finally {
      if (!stopped) server.child.kill('SIGKILL');
    }
    // Through either path, the file holds the rename, intact.
    for (const file of [fx.db, b]) {
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect((db.prepare('SELECT name FROM groups ORDER BY name').all() as Array<{ name: string }>).map((g) => g.name)).toEqual([
          'Dogs',
          'Felines',
        ]);
      } finally {
        db.close();
      }
    }
  });
});
