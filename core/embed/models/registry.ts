/**
 * The registered models of this user: `registry.json` in the models folder (app data, beside
 * the databases: `~/.local/share/constellate/models` on Linux; `CONSTELLATE_MODELS_DIR`
 * overrides), one entry per model with its checked spec, and for a CLIP-like model its
 * vocabulary's text embeddings (`<id>.names.f32`, see vocabulary.ts), computed when it was added.
 *
 * A model folder added by path stays where it is (a CLIP is 300-600 MB: not copied); a
 * downloaded one lives in this folder. The file is replaced whole (temp file + rename), so a
 * crash never leaves half a registry. Any database can use any registered model; embeddings
 * are stored per model id in each database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import envPaths from 'env-paths';
import type { ModelSpec } from './spec.js';
import { NAME_PROMPT, NAME_VOCABULARY } from './vocabulary.js';

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONSTELLATE_MODELS_DIR || path.join(envPaths('constellate', { suffix: '' }).data, 'models');
}

export interface RegisteredModel {
  spec: ModelSpec;
  addedAt: string;
  /** Where it came from: a folder the user named, or a download of a catalogue entry. */
  source: { kind: 'folder' } | { kind: 'download'; catalogId: string };
}

interface RegistryFile {
  version: 1;
  models: RegisteredModel[];
}

/** A hash of the vocabulary and its prompt: vectors made for another list are not used. */
export function vocabularyKey(labels: readonly string[] = NAME_VOCABULARY, prompt = NAME_PROMPT): string {
  return createHash('sha256').update(prompt).update('\n').update(labels.join('\n')).digest('hex').slice(0, 16);
}

const safe = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');

export class ModelRegistry {
  constructor(readonly dir: string = modelsDir()) {}

  private get file(): string {
    return path.join(this.dir, 'registry.json');
  }

  private read(): RegistryFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { version: 1, models: [] }; // none registered yet
    }
    try {
      const f = JSON.parse(text) as RegistryFile;
      return Array.isArray(f.models) ? f : { version: 1, models: [] };
    } catch (err) {
      throw new Error(`the model registry ${this.file} is damaged (${(err as Error).message}); move it away to start a new one`);
    }
  }

  private write(f: RegistryFile): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(f, null, 1));
    renameSync(tmp, this.file);
  }

  list(): RegisteredModel[] {
    return this.read().models;
  }

  get(id: string): RegisteredModel | null {
    return this.read().models.find((m) => m.spec.id === id) ?? null;
  }

  /** The registered model whose folder this is (the same path), if any. */
  byFolder(folder: string): RegisteredModel | null {
    const abs = path.resolve(folder);
    return this.read().models.find((m) => m.spec.folder === abs) ?? null;
  }

  /** Adds (or replaces) a model; its vocabulary vectors first, so an entry never lacks them. */
  add(entry: RegisteredModel, names: Float32Array | null): void {
    mkdirSync(this.dir, { recursive: true });
    if (names) {
      const file = this.namesFile(entry.spec.id);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, new Uint8Array(names.buffer, names.byteOffset, names.byteLength));
      renameSync(tmp, file);
      writeFileSync(`${file}.key`, vocabularyKey());
    }
    const f = this.read();
    f.models = [...f.models.filter((m) => m.spec.id !== entry.spec.id), entry];
    this.write(f);
  }

  /** Forgets a model (its folder is left alone unless it was downloaded here). */
  remove(id: string): boolean {
    const f = this.read();
    const entry = f.models.find((m) => m.spec.id === id);
    if (!entry) return false;
    f.models = f.models.filter((m) => m !== entry);
    this.write(f);
    rmSync(this.namesFile(id), { force: true });
    rmSync(`${this.namesFile(id)}.key`, { force: true });
    if (entry.source.kind === 'download' && path.dirname(entry.spec.folder) === path.join(this.dir, 'downloads'))
      rmSync(entry.spec.folder, { recursive: true, force: true });
    return true;
  }

  private namesFile(id: string): string {
    return path.join(this.dir, `${safe(id)}.names.f32`);
  }

  /** The vocabulary's prompt embeddings (labels x dim), or null (no text tower, or made for another list). */
  nameVectors(id: string): Float32Array | null {
    const file = this.namesFile(id);
    try {
      if (readFileSync(`${file}.key`, 'utf8') !== vocabularyKey()) return null;
      const buf = readFileSync(file);
      const copy = new Uint8Array(buf.byteLength);
      copy.set(buf);
      return new Float32Array(copy.buffer);
    } catch {
      return null;
    }
  }

  /** Whether the model's files are still where they were registered. */
  static present(m: RegisteredModel): boolean {
    return statSync(path.join(m.spec.folder, m.spec.image.file), { throwIfNoEntry: false })?.isFile() === true;
  }
}
