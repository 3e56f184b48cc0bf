/**
 * The number keys 1-9: each stands for one group for the whole session, shown on its card, in
 * the Move list and on every "send to" button, never for a rank in a list that re-sorts per
 * image (pressing 2 for "Group 2" must not send the image to whatever is second today).
 *
 * At the first look at the groups, the nine largest take 1-9. A group made later (a split, a
 * new group) takes a free number. A group that goes away (merged, emptied) keeps its number in
 * case Undo brings it back; a regroup, which gives every group a new id, hands each number on
 * with the group's colour slot, which goes on with the group's name (core/store/edits.ts).
 * Only when all nine are spoken for does a new group take the number of one that went away.
 * Kept in sessionStorage, so a reload keeps them.
 */
import type { GroupSummary } from '../../../core/shared/contract.js';

export const KEY_COUNT = 9;
const STORAGE_KEY = 'constellate.groupKeys';

interface Entry {
  groupId: number;
  slot: number;
  /** Present in the last listing. */
  live: boolean;
}

type Store = { getItem(k: string): string | null; setItem(k: string, v: string): void } | undefined;

export class GroupKeys {
  /** key (1-9) -> its group. */
  entries = $state.raw<ReadonlyMap<number, Entry>>(new Map());
  /** The names of the groups with a key, for the messages ("Moved 1 image to “Birds”"). */
  names = $state.raw<ReadonlyMap<number, string>>(new Map());

  constructor(private readonly storage: Store = (globalThis as { sessionStorage?: Store }).sessionStorage) {
    try {
      const saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null') as Array<[number, Entry]> | null;
      if (Array.isArray(saved)) this.entries = new Map(saved.filter(([k]) => k >= 1 && k <= KEY_COUNT));
    } catch {
      /* nothing saved, or unreadable: numbered afresh */
    }
  }

  /** The current groups (any order): keeps every number with its group, numbers new groups. */
  sync(groups: ReadonlyArray<Pick<GroupSummary, 'id' | 'name' | 'color' | 'count'>>): void {
    const byId = new Map(groups.map((g) => [g.id, g]));
    const next = new Map<number, Entry>();
    const keyed = new Set<number>();
    // 1. Numbers whose group is still there.
    for (const [k, e] of this.entries) {
      if (byId.has(e.groupId)) {
        next.set(k, { groupId: e.groupId, slot: byId.get(e.groupId)!.color, live: true });
        keyed.add(e.groupId);
      }
    }
    // 2. Numbers whose group went away: to the group that goes on with its colour (a regroup),
    // else kept for it (Undo may bring it back).
    const bySlot = new Map(groups.map((g) => [g.color, g]));
    for (const [k, e] of this.entries) {
      if (next.has(k)) continue;
      const heir = bySlot.get(e.slot);
      if (heir && !keyed.has(heir.id) && !this.isKeyedElsewhere(heir.id)) {
        next.set(k, { groupId: heir.id, slot: heir.color, live: true });
        keyed.add(heir.id);
      } else next.set(k, { ...e, live: false });
    }
    // 3. Groups without a number, largest first: a free number, else one whose group is gone.
    const unkeyed = groups.filter((g) => !keyed.has(g.id)).sort((a, b) => b.count - a.count || a.id - b.id);
    for (const g of unkeyed) {
      let k = 0;
      for (let n = 1; n <= KEY_COUNT && !k; n++) if (!next.has(n)) k = n;
      for (let n = 1; n <= KEY_COUNT && !k; n++) if (next.get(n)?.live === false) k = n;
      if (!k) break;
      next.set(k, { groupId: g.id, slot: g.color, live: true });
      keyed.add(g.id);
    }
    this.entries = next;
    this.names = new Map(groups.filter((g) => keyed.has(g.id)).map((g) => [g.id, g.name]));
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify([...next]));
    } catch {
      /* private mode: numbers last until the page closes */
    }
  }

  private isKeyedElsewhere(groupId: number): boolean {
    for (const e of this.entries.values()) if (e.groupId === groupId) return true;
    return false;
  }

  /** The number of a group (null: none). */
  keyOf(groupId: number | null | undefined): number | null {
    if (groupId == null) return null;
    for (const [k, e] of this.entries) if (e.live && e.groupId === groupId) return k;
    return null;
  }

  /** The group a number stands for now (null: none, or its group is gone). */
  groupOf(key: number): number | null {
    const e = this.entries.get(key);
    return e?.live ? e.groupId : null;
  }
}
