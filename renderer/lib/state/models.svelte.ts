/**
 * The models: which the library embeds with and which the grouping was made with, the
 * registered ones and the known ones to download; and, with a CLIP-like grouping model, the
 * suggested names of the groups. Fetched again when models or groups change.
 */
import type { Client } from '../../../core/shared/client.js';
import type { ModelsState, NameSuggestionInfo } from '../../../core/shared/contract.js';

export class Models {
  state = $state<ModelsState | null>(null);
  /** Suggested names by group id (only groups the user has not named). */
  names = $state.raw<ReadonlyMap<number, NameSuggestionInfo>>(new Map());
  /** Bumped when the models change. */
  version = $state(0);

  constructor(private readonly client: Client) {}

  /** Whether the grouping's model has a text encoder: text search and suggested names. */
  get hasText(): boolean {
    const s = this.state;
    return !!s && s.groupingModel !== null && s.models.some((m) => m.id === s.groupingModel && m.text && !m.missing);
  }

  async refresh(): Promise<void> {
    try {
      this.state = await this.client.listModels({});
      if (this.hasText) {
        const r = await this.client.suggestGroupNames({});
        this.names = new Map(r.suggestions.map((s) => [s.groupId, s]));
      } else this.names = new Map();
    } catch {
      // the screens say when the core is unreachable
    }
  }

  changed(): void {
    this.version++;
    void this.refresh();
  }
}
