/**
 * A model's tokenizer from its tokenizer.json (and tokenizer_config.json), the Hugging Face
 * layout, read by `@huggingface/tokenizers` (tokenizers.js: the tokenizers transformers.js
 * uses, as a dependency-free package): CLIP's BPE, SigLIP's Unigram, BERT's WordPiece.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFolderError } from './spec.js';

export interface TextTokenizer {
  /** Token ids with the model's special tokens (CLIP: <|startoftext|> ... <|endoftext|>). */
  encode(text: string): number[];
  /** The id padding uses: the pad token's, else the end token's, else 0. */
  readonly padId: number;
}

export function loadTokenizer(folder: string, file: string, configFile: string | null): TextTokenizer {
  const read = (rel: string) => {
    try {
      return JSON.parse(readFileSync(path.join(folder, rel), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ModelFolderError(`${rel} cannot be read as JSON (${(err as Error).message.split('\n')[0]})`);
    }
  };
  const json = read(file);
  const config = configFile ? read(configFile) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (err) {
    throw new ModelFolderError(
      `${file} is not a tokenizer tokenizers.js can read (${(err as Error).message.split('\n')[0]!.slice(0, 160)})`,
    );
  }
  const idOf = (token: unknown): number | null => {
    const t =
      typeof token === 'string'
        ? token
        : token && typeof token === 'object' && typeof (token as { content?: unknown }).content === 'string'
          ? (token as { content: string }).content
          : null;
    if (t === null) return null;
    const id = tokenizer.token_to_id(t);
    return typeof id === 'number' ? id : null;
  };
  const padId = idOf(config.pad_token) ?? idOf(config.eos_token) ?? 0;
  return {
    encode: (text) => tokenizer.encode(text).ids,
    padId,
  };
}
