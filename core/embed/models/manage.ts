/**
 * Adding, finding and describing registered models: what `constellate models` and the app's
 * Models panel call. Adding checks everything first (folder layout, then both graphs opened and
 * run in the model worker, the vocabulary embedded); only a model that passed is stored.
 */
import { BACKBONE } from '../backboneInfo.js';
import { inspectModelFolder } from './folder.js';
import type { ModelWorkerClient } from './modelClient.js';
import { ModelRegistry, type RegisteredModel } from './registry.js';
import type { ModelSpec } from './spec.js';
import { NAME_PROMPT, NAME_VOCABULARY } from './vocabulary.js';

export const namePrompts = (labels: readonly string[] = NAME_VOCABULARY): string[] => labels.map((l) => NAME_PROMPT.replace('{label}', l));

/** A model id that is neither built in nor registered (or whose folder is gone). */
export class UnknownModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownModelError';
  }
}

export async function addModelFolder(
  folder: string,
  deps: { registry: ModelRegistry; client: ModelWorkerClient; source?: RegisteredModel['source'] },
): Promise<RegisteredModel> {
  const found = await inspectModelFolder(folder);
  const { spec, names } = await deps.client.check(found, namePrompts());
  const entry: RegisteredModel = { spec, addedAt: new Date().toISOString(), source: deps.source ?? { kind: 'folder' } };
  deps.registry.add(entry, names);
  return entry;
}

/** The spec of a model id: null for the bundled backbone; UnknownModelError otherwise. */
export function resolveModel(registry: ModelRegistry, id: string): ModelSpec | null {
  if (id === BACKBONE.id || id === 'builtin' || id === 'mobilenet') return null;
  const m = registry.get(id) ?? registry.list().find((r) => r.spec.name === id) ?? null;
  if (!m)
    throw new UnknownModelError(
      `no model "${id}" is registered (constellate models list shows them; constellate models add <folder> adds one)`,
    );
  if (!ModelRegistry.present(m))
    throw new UnknownModelError(
      `model ${m.spec.id} was registered from ${m.spec.folder}, which is no longer there: put the folder back, or add it again from where it is now`,
    );
  return m.spec;
}

/** One line per model for `models list`, and the facts the Models panel shows. */
export function describeModel(spec: ModelSpec | null): {
  id: string;
  name: string;
  dim: number;
  text: boolean;
  folder: string | null;
  bytes: number;
  input: string;
} {
  if (!spec)
    return {
      id: BACKBONE.id,
      name: 'MobileNetV2 x1.4 (ImageNet, built in)',
      dim: BACKBONE.dim,
      text: false,
      folder: null,
      bytes: 0,
      input: `${BACKBONE.inputSize} px`,
    };
  const i = spec.image;
  return {
    id: spec.id,
    name: spec.name,
    dim: i.dim,
    text: spec.text !== null,
    folder: spec.folder,
    bytes: spec.bytes,
    input: i.resizeTo === i.cropTo ? `${i.cropTo} px` : `${i.cropTo} px of ${i.resizeTo}`,
  };
}
