/**
 * Bring your own model, on generated ONNX folders (test/fixtures/tinyModels.ts) whose outputs
 * are known: adding checks the folder and both graphs (each bad folder refused with its one
 * line, nothing stored), the towers give exactly the features the graphs define (through the
 * real tokenizer and preprocessing), search ranks and names groups exactly, and a download from
 * a local HTTP server reports progress, resumes, and refuses a file whose checksum is wrong.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel, DownloadError, type CatalogEntry } from '../../core/embed/models/download.js';
import { inspectModelFolder } from '../../core/embed/models/folder.js';
import { addModelFolder, namePrompts } from '../../core/embed/models/manage.js';
import { ModelWorkerClient } from '../../core/embed/models/modelClient.js';
import { ModelRegistry } from '../../core/embed/models/registry.js';
import { ModelFolderError, parsePreprocessing, toTowerInput } from '../../core/embed/models/spec.js';
import { NAME_VOCABULARY } from '../../core/embed/models/vocabulary.js';
import { labelAsName, suggestNames } from '../../core/jobs/search/naming.js';
import { rankRows } from '../../core/jobs/grouping/textRows.js';
import { tinyImageEmbedding, TINY_WORDS, writeBadModelFolders, writeTinyClip, writeTinyDino } from '../fixtures/tinyModels.js';

const work = mkdtempSync(path.join(tmpdir(), 'cs-models-'));
const client = new ModelWorkerClient();
afterAll(async () => {
  await client.close();
  rmSync(work, { recursive: true, force: true });
});

const unit = (v: readonly number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('model folders', () => {
  it('refuses each bad folder with one line saying what is missing, and stores nothing', async () => {
    const bad = writeBadModelFolders(path.join(work, 'bad'));
    const registry = new ModelRegistry(path.join(work, 'reg-bad'));
    const expected: Record<keyof typeof bad, RegExp> = {
      empty: /^no ONNX file in .*empty: expected onnx\/vision_model\.onnx \(CLIP, SigLIP\) or onnx\/model\.onnx \(DINOv2\)$/,
      notOnnx: /^onnx\/model\.onnx is not an ONNX model ONNX Runtime can load/,
      noPreprocessor: /^no preprocessor_config\.json in .*: the image size, mean and std the model expects are unknown$/,
      wrongShape: /^onnx\/model\.onnx: its input 'x' has shape \[batch, 10\]: an image encoder takes \[batch, 3, height, width\]$/,
      textOnly:
        /holds only a text encoder \(onnx\/text_model\.onnx\): an image encoder \(onnx\/vision_model\.onnx or onnx\/model\.onnx\) is needed$/,
      noTokenizer: /has a text encoder \(onnx\/text_model\.onnx\) but no tokenizer\.json: text search needs both/,
    };
    for (const [what, folder] of Object.entries(bad) as Array<[keyof typeof bad, string]>) {
      const err = await addModelFolder(folder, { registry, client }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(ModelFolderError);
      expect((err as Error).message, what).toMatch(expected[what]);
      expect((err as Error).message.includes('\n'), what).toBe(false);
    }
    expect(registry.list()).toEqual([]);
    expect(existsSync(registry.dir)).toBe(false);
  });

  it('refuses towers that do not share a space, and an image size the graph does not take', async () => {
    const registry = new ModelRegistry(path.join(work, 'reg-bad2'));
    const dino = writeTinyDino(path.join(work, 'dino-28'));
    // The graph is fixed at 28 px: a preprocessor cropping 32 px is refused.
    const cfg = JSON.parse(readFileSync(path.join(dino, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(dino, 'preprocessor_config.json'),
      JSON.stringify({ ...cfg, crop_size: { height: 32, width: 32 }, size: { shortest_edge: 36 } }),
    );
    await expect(addModelFolder(dino, { registry, client })).rejects.toThrow(
      /takes 28x28 images but preprocessor_config\.json makes 32x32/,
    );
    expect(registry.list()).toEqual([]);
  });

  it('reads Hugging Face preprocessing: shortest edge then centre crop, squash sizes, normalisation', () => {
    expect(
      parsePreprocessing({
        size: { shortest_edge: 256 },
        crop_size: { height: 224, width: 224 },
        image_mean: [0.485, 0.456, 0.406],
        image_std: [0.229, 0.224, 0.225],
      }),
    ).toMatchObject({ resizeTo: 256, cropTo: 224, rescale: 1 / 255 });
    expect(
      parsePreprocessing({
        size: { height: 224, width: 224 },
        do_center_crop: false,
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.5, 0.5, 0.5],
      }),
    ).toMatchObject({ resizeTo: 224, cropTo: 224 });
    expect(() => parsePreprocessing({ size: 224 })).toThrow(/no image_mean and image_std/);
    expect(() => parsePreprocessing({ image_mean: [0, 0, 0], image_std: [1, 1, 1] })).toThrow(/gives no image size/);
    // A 4x4 input cropped to 2x2, normalised, NCHW: the centre pixels in channel planes.
    const rows = Float32Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const out = toTowerInput(rows, 1, {
      resizeTo: 4,
      cropTo: 2,
      rescale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      layout: 'nchw',
    });
    expect(Array.from(out)).toEqual([1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('the tiny CLIP', () => {
  let registry: ModelRegistry;
  let id: string;
  beforeAll(async () => {
    registry = new ModelRegistry(path.join(work, 'reg'));
    const entry = await addModelFolder(writeTinyClip(path.join(work, 'clip')), { registry, client });
    id = entry.spec.id;
  });

  it('is registered with both towers, named from config.json, its id from its files', async () => {
    const spec = registry.get(id)!.spec;
    expect(id).toMatch(/^tiny-clip@[0-9a-f]{12}$/);
    expect(spec.image).toMatchObject({
      file: 'onnx/vision_model.onnx',
      input: 'pixel_values',
      layout: 'nchw',
      output: 'image_embeds',
      dim: 4,
      cropTo: 32,
    });
    expect(spec.text).toMatchObject({
      file: 'onnx/text_model.onnx',
      inputIds: 'input_ids',
      attentionMask: 'attention_mask',
      output: 'text_embeds',
      sequenceLength: null,
    });
    expect((await inspectModelFolder(spec.folder)).id).toBe(id);
    // Another copy of the same files is the same model.
    expect((await inspectModelFolder(writeTinyClip(path.join(work, 'clip-copy')))).id).toBe(id);
  });

  it('embeds text through the real tokenizer exactly as the graph defines, the vocabulary too', async () => {
    const spec = registry.get(id)!.spec;
    const v = await client.encodeText(spec, ['a photo of a strawberry', 'GRASS', 'sky blue', 'a beach']);
    expect(Array.from(v)).toEqual([
      ...TINY_WORDS.strawberry!,
      ...TINY_WORDS.grass!,
      ...TINY_WORDS.sky!.map((x, i) => x + TINY_WORDS.blue![i]!),
      0,
      0,
      0,
      0,
    ]);
    const names = registry.nameVectors(id)!;
    expect(names.length).toBe(NAME_VOCABULARY.length * 4);
    const at = (label: string) => Array.from(names.subarray(NAME_VOCABULARY.indexOf(label) * 4, NAME_VOCABULARY.indexOf(label) * 4 + 4));
    expect(namePrompts(['a strawberry'])).toEqual(['a photo of a strawberry']);
    expect(at('a strawberry')).toEqual(TINY_WORDS.strawberry);
    expect(at('the sky')).toEqual(TINY_WORDS.sky);
    expect(at('a dog')).toEqual([0, 0, 0, 0]);
  });

  it('ranks by cosine with the text and names groups from the vocabulary, each label once', () => {
    const colours: Array<[number, [number, number, number]]> = [
      [1, [255, 0, 0]],
      [2, [0, 255, 0]],
      [3, [200, 40, 40]],
      [4, [0, 0, 255]],
      [5, [230, 20, 20]],
    ];
    const dim = 4;
    const unitRows = new Float32Array(colours.flatMap(([, c]) => unit(tinyImageEmbedding(c))));
    const ranked = rankRows({ ids: colours.map(([i]) => i), unit: unitRows, dim }, Float32Array.from(TINY_WORDS.strawberry!), 3);
    expect(ranked.map((r) => r.imageId)).toEqual([1, 5, 3]);
    const q = unit(TINY_WORDS.strawberry!);
    const cos = (c: [number, number, number]) => unit(tinyImageEmbedding(c)).reduce((s, x, k) => s + x * q[k]!, 0);
    expect(ranked[1]!.score).toBeCloseTo(cos([230, 20, 20]), 6);
    const names = registry.nameVectors(id)!;
    const groups = [
      { groupId: 10, mean: Float32Array.from(tinyImageEmbedding([250, 10, 10])) },
      { groupId: 11, mean: Float32Array.from(tinyImageEmbedding([10, 250, 10])) },
      { groupId: 12, mean: Float32Array.from(tinyImageEmbedding([10, 10, 250])) },
      { groupId: 13, mean: Float32Array.from(tinyImageEmbedding([240, 0, 30])) },
    ];
    const s = suggestNames(groups, names, NAME_VOCABULARY);
    expect(s.map((x) => [x.groupId, x.name])).toEqual([
      [10, 'Strawberry'],
      [11, 'Grass'],
      [12, 'Sky'],
      // the second red group: strawberry is taken, and banana (yellow) is the nearest label left
      [13, 'Banana'],
    ]);
    // A name a group already has is not offered again.
    expect(suggestNames(groups.slice(0, 1), names, NAME_VOCABULARY, new Set(['strawberry']))[0]!.name).toBe('Banana');
    expect(labelAsName('an apple')).toBe('Apple');
  });
});

describe('downloads', () => {
  let server: Server;
  let base = '';
  const clipDir = writeTinyClip(path.join(work, 'served-clip'));
  const entry: CatalogEntry = {
    id: 'tiny',
    name: 'Tiny CLIP',
    repo: 'test/tiny-clip',
    files: [
      'config.json',
      'preprocessor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/vision_model.onnx',
      'onnx/text_model.onnx',
    ],
    approxBytes: 6000,
    licence: 'MIT',
    text: true,
    about: '',
  };
  let corrupt = false;
  let cutAfter: number | null = null;
  const ranges: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const m = /^\/test\/tiny-clip\/resolve\/main\/(.+)$/.exec(req.url ?? '');
      const file = m ? path.join(clipDir, m[1]!) : null;
      if (!file || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      let body = readFileSync(file);
      const etag = `"${createHash('sha256').update(body).digest('hex')}"`;
      if (corrupt && file.endsWith('.onnx')) body = Buffer.concat([body.subarray(0, body.length - 1), Buffer.from([body.at(-1)! ^ 1])]);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) ranges.push(`${m![1]} ${range[1]}`);
      const start = range ? Number(range[1]) : 0;
      const part = body.subarray(start);
      res.writeHead(range ? 206 : 200, {
        etag,
        'content-length': String(req.method === 'HEAD' ? body.length : part.length),
        ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
      });
      if (req.method === 'HEAD') return void res.end();
      if (cutAfter !== null && file.endsWith('vision_model.onnx')) {
        res.write(part.subarray(0, cutAfter));
        setTimeout(() => res.destroy(), 200).unref(); // the connection drops mid-file
        return;
      }
      res.end(part);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('downloads with progress, resumes a broken file with a Range request, checks it, and the folder registers', async () => {
    const modelsDir = path.join(work, 'dl');
    const progress: number[] = [];
    cutAfter = 100;
    await expect(downloadModel(entry, { modelsDir, baseUrl: base, onProgress: (p) => progress.push(p.done) })).rejects.toThrow();
    cutAfter = null;
    let total = 0;
    const folder = await downloadModel(entry, { modelsDir, baseUrl: base, onProgress: (p) => ((total = p.total), progress.push(p.done)) });
    expect(ranges).toContain('onnx/vision_model.onnx 100');
    expect(total).toBe(entry.files.reduce((n, f) => n + readFileSync(path.join(clipDir, f)).length, 0));
    expect(progress.at(-1)).toBe(total);
    expect(folder).toBe(path.join(modelsDir, 'downloads', 'tiny'));
    for (const f of entry.files) expect(readFileSync(path.join(folder, f))).toEqual(readFileSync(path.join(clipDir, f)));
    expect(readdirSync(path.join(modelsDir, 'downloads'))).toEqual(['tiny']);
    const registry = new ModelRegistry(modelsDir);
    const added = await addModelFolder(folder, { registry, client, source: { kind: 'download', catalogId: 'tiny' } });
    expect(added.spec.text).not.toBeNull();
    // Removing a downloaded model deletes its files.
    registry.remove(added.spec.id);
    expect(existsSync(folder)).toBe(false);
  });

  it("refuses a file whose bytes do not match the server's sha256, and names the unreachable host", async () => {
    corrupt = true;
    const modelsDir = path.join(work, 'dl-bad');
    const err = await downloadModel(entry, { modelsDir, baseUrl: base }).catch((e: unknown) => e);
    corrupt = false;
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(
      /onnx\/vision_model\.onnx does not match its checksum \(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\)/,
    );
    expect(existsSync(path.join(modelsDir, 'downloads', 'tiny'))).toBe(false);
    const off = await downloadModel(entry, { modelsDir, baseUrl: 'http://127.0.0.1:9' }).catch((e: unknown) => e);
    expect((off as Error).message).toMatch(/^could not reach 127\.0\.0\.1:9 .*Offline\? .*constellate models add <folder>/);
  });
});
