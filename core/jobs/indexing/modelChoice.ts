/**
 * Which model a database embeds with: a registered model's id (core/embed/models), or the
 * bundled backbone's (the default). One per database: its folders are grouped together, so
 * they share one feature space. A grouping keeps the model it was made with (runs.model): the
 * features it reads are that model's, whatever this setting says while a switch is under way.
 */
import { BACKBONE } from '../../embed/backboneInfo.js';
import type { Database } from '../../store/database.js';

const KEY = 'embedding_model';

export function getLibraryModelId(db: Database): string {
  return db.getState(KEY) ?? BACKBONE.id;
}

export function setLibraryModelId(db: Database, id: string): void {
  db.setState(KEY, id);
}
