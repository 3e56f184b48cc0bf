/**
 * Bring your own model through the built CLI: a generated two-tower "CLIP" folder is added,
 * a library of coloured images is grouped with it, searched by text and its groups named; bad
 * folders are refused with their one line and leave the registry and the database as they
 * were; `eval --model` scores it. The tiny CLIP's features are known (test/fixtures/tinyModels.ts):
 * a red image is (1, -1, -1, 0), as is "strawberry".
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  COLOUR_SHADES as shades,
  tinyImageEmbedding,
  TINY_WORDS,
  writeBadModelFolders,
  writeColourPhotos,
  writeTinyClip,
} from '../fixtures/tinyModels.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-cli-models-'));
const env = { CONSTELLATE_MODELS_DIR: path.join(work, 'models') };
const db = path.join(work, 'lib.db');
const photos = path.join(work, 'photos');
let id = '';
beforeAll(async () => {
  await writeColourPhotos(photos);
  writeTinyClip(path.join(work, 'tiny-clip'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('constellate models, search, names (built CLI, generated CLIP)', () => {
  it('refuses bad folders with one line each; nothing is registered', async () => {
    const bad = writeBadModelFolders(path.join(work, 'bad'));
    for (const folder of Object.values(bad)) {
      const r = await runCli(['models', 'add', folder], { env });
      expect(r.code, folder).toBe(1);
      expect(r.stderr.trim().split('\n'), folder).toHaveLength(1);
      expect(r.stderr).toMatch(/^constellate: /);
    }
    expect(existsSync(path.join(env.CONSTELLATE_MODELS_DIR, 'registry.json'))).toBe(false);
  });

  it('adds the tiny CLIP, groups a library with it, searches by text and names its groups', async () => {
    const add = await runCli(['models', 'add', path.join(work, 'tiny-clip'), '--json'], { env });
    expect(add.code, add.stderr).toBe(0);
    const info = JSON.parse(add.stdout) as { id: string; dim: number; text: boolean };
    id = info.id;
    expect(info).toMatchObject({ dim: 4, text: true });

    // Unknown model: refused before anything is written.
    const unknown = await runCli(['cluster', photos, '--db', db, '--model', 'nope'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no model "nope" is registered/);
    expect(existsSync(db)).toBe(false);

    const cluster = await runCli(['cluster', photos, '--db', db, '--model', id, '--groups', '3', '--json'], { env });
    expect(cluster.code, cluster.stderr).toBe(0);
    const summary = JSON.parse(cluster.stdout) as { images: number; groups: Array<{ size: number }>; backend: { choice: string } };
    expect(summary.images).toBe(18);
    expect(summary.groups.map((g) => g.size).sort()).toEqual([6, 6, 6]);
    expect(summary.backend.choice).toBe('onnx');

    const list = await runCli(['models', 'list', '--db', db, '--json'], { env });
    expect(JSON.parse(list.stdout).libraryModel).toBe(id);

    const search = await runCli(['search', 'strawberry', '--db', db, '--limit', '8', '--json'], { env });
    expect(search.code, search.stderr).toBe(0);
    const found = JSON.parse(search.stdout) as { model: string; results: Array<{ path: string; score: number }> };
    expect(found.model).toBe(id);
    // The six reds first, purest first (cosine of their mean colour with (1,-1,-1,0)), then the rest far below.
    const order = found.results.slice(0, 6).map((r) => path.basename(r.path));
    const cos = (a: number[], b: readonly number[]) => a.reduce((s, x, k) => s + x * b[k]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    const expected = shades
      .red!.map((c, i) => ({ name: `red-${i}.png`, s: cos(tinyImageEmbedding(c), TINY_WORDS.strawberry!) }))
      .sort((a, b) => b.s - a.s);
    expect(order).toEqual(expected.map((e) => e.name));
    expect(found.results[2]!.score).toBeCloseTo(expected[2]!.s, 5);
    expect(found.results[0]!.score).toBeCloseTo(1, 5);
    expect(found.results[6]!.score).toBeLessThan(0);

    const names = await runCli(['names', '--db', db, '--json'], { env });
    const suggested = (JSON.parse(names.stdout) as { suggestions: Array<{ name: string }> }).suggestions.map((s) => s.name).sort();
    expect(suggested).toEqual(['Grass', 'Sky', 'Strawberry']);
    // Suggestions only: the groups are still "Group N".
    const names2 = JSON.parse((await runCli(['names', '--db', db, '--json'], { env })).stdout) as {
      suggestions: Array<{ current: string }>;
    };
    expect(names2.suggestions.every((s) => /^Group \d$/.test(s.current))).toBe(true);
  });

  it('switches back to the built-in model (no text search there), and eval --model scores the tiny CLIP', async () => {
    const back = await runCli(['models', 'use', 'builtin', '--db', db, '--groups', '3', '--json'], { env });
    expect(back.code, back.stderr).toBe(0);
    const search = await runCli(['search', 'strawberry', '--db', db], { env });
    expect(search.code).toBe(1);
    expect(search.stderr).toMatch(/no text search: the built-in MobileNetV2 has no text encoder/);
    const names = await runCli(['names', '--db', db], { env });
    expect(names.stdout).toMatch(/No suggested names/);

    const ev = await runCli(['eval', photos, '--model', id, '--seeds', '1', '--no-peers', '--json', '--db', path.join(work, 'eval.db')], {
      env,
    });
    expect(ev.code, ev.stderr).toBe(0);
    const out = JSON.parse(ev.stdout) as { model: string; n: number; k: number; icon: { acc: number } };
    expect(out).toMatchObject({ model: id, n: 18, k: 3 });
    expect(out.icon.acc).toBe(1);
    expect(readFileSync(path.join(env.CONSTELLATE_MODELS_DIR, 'registry.json'), 'utf8')).toContain(id);
  });
});
