/**
 * User edits with undo/redo.
 *
 * Every edit runs in one write transaction that (1) drops the redo stack
 * (edits marked undone), (2) captures the "before" state of exactly the rows it
 * will touch (groups by id, assignments by (run, image), and for re-clustering
 * the active-run pointer), (3) mutates, (4) captures the "after" state of the
 * same keys, and (5) appends {before, after} as JSON to the `edits` table.
 *
 * The edit log is a stack with an implicit cursor: edits with undone = 0 are
 * applied (the newest is the next to undo), edits with undone = 1 form the redo
 * stack (the oldest is the next to redo). Undo writes "before", redo writes
 * "after", each in one transaction, so undo/redo restore the exact rows.
 */
import type { Database } from './database.js';
import { GROUP_GONE, StaleEditError, StoreNotFoundError, StoreUsageError } from './errors.js';
import { getActiveRunId, setActiveRunId } from './runs.js';

export type EditKind = 'rename' | 'merge' | 'split' | 'move' | 'move-new' | 'remove' | 'pin' | 'recluster';

export interface EditEntry {
  id: number;
  kind: EditKind;
  /** Human-readable, e.g. `Rename group to "Cats"` (for "Undo …" menu items). */
  label: string;
  runId: number | null;
  createdAt: number;
  undone: boolean;
}

export interface EditResult {
  /** Null when the edit changed nothing (and was not logged). */
  editId: number | null;
}

export interface SplitPart {
  /** Name for the part's group; part 0 keeps the original group (and its name unless given). */
  name?: string;
  images: ReadonlyArray<{ imageId: number; confidence: number }>;
}

export interface ReclusterSummary {
  previousRunId: number | null;
  /** New-run groups that received the user's name of the old group they go on from. */
  renamedGroups: number;
  /** Those names. */
  keptNames: string[];
  /** Groups created in the new run to hold pinned images whose old group has no successor. */
  createdGroups: number;
  carriedPins: number;
  /** User names whose group has no successor (no new group is at least half its images) and no pins. */
  droppedNames: string[];
  /**
   * For each dropped name: the new group holding most of its images, offered to take the name
   * back ("Windmills was not kept: its images are now in Group 4 (12 of 18). Name it Windmills?").
   */
  nameOffers: NameOffer[];
}

/** A user's name that did not go on, and the new group most of its images went to. */
export interface NameOffer {
  name: string;
  groupId: number;
  /** That group's name after the regroup. */
  groupName: string;
  /** How many of the old group's images are in it, of how many the old group had. */
  count: number;
  of: number;
}

// Raw rows as stored in snapshots (DB column names keep restore trivial).
interface GroupDb {
  id: number;
  run_id: number;
  cluster_index: number | null;
  name: string;
  origin: string;
  user_named: number;
  /** Absent in snapshots written before the colour column (schema 3). */
  color?: number | null;
  created_at: number;
}
type NewGroupRow = { id: number; clusterIndex: number | null };
type PinRow = { imageId: number; groupId: number | null; confidence: number };
/** What carrying the old groups over decided, for the steps after it (see EditsRepository.carryOver). */
interface CarriedGroups {
  /** Old group -> the new group its pinned images go to. */
  target: Map<number, number>;
  /** Names in use (the old grouping's and those given so far). */
  names: Set<string>;
  /** New groups that took an old name. */
  named: Set<number>;
  /** Colour slots in use, and the new groups that took an old colour. */
  colors: Set<number>;
  colored: Set<number>;
  /** Unmatched user-named old groups. */
  dropped: GroupDb[];
}
/** [runId, imageId, groupId, confidence, pinned] or [runId, imageId] when the row is absent. */
type AssignSnap = [number, number, number | null, number, number] | [number, number];

interface Snapshot {
  groups: Array<[number, GroupDb | null]>;
  assignments: AssignSnap[];
  activeRun?: number | null;
}

interface Plan {
  groupIds: number[];
  assignmentKeys: Array<[number, number]>;
  activeRun?: boolean;
}

const MAX_HISTORY = 1000;

function uniq(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}

/** The smallest non-negative integer not in `used` (colour slots: low slots are the best-spread hues). */
function smallestFree(used: Iterable<number>): number {
  const set = new Set(used);
  let n = 0;
  while (set.has(n)) n++;
  return n;
}

export class EditsRepository {
  constructor(
    private readonly db: Database,
    private readonly maxHistory = MAX_HISTORY,
  ) {}

  // ---- snapshot machinery -------------------------------------------------------

  private capture(groupIds: readonly number[], keys: ReadonlyArray<[number, number]>, withActive: boolean): Snapshot {
    const g = this.db.stmt<GroupDb>(
      'SELECT id, run_id, cluster_index, name, origin, user_named, color, created_at FROM groups WHERE id = ?',
    );
    const a = this.db.stmt<{ group_id: number | null; confidence: number; pinned: number }>(
      'SELECT group_id, confidence, pinned FROM assignments WHERE run_id = ? AND image_id = ?',
    );
    const snap: Snapshot = {
      groups: groupIds.map((id) => [id, g.get(id) ?? null]),
      assignments: keys.map(([run, img]): AssignSnap => {
        const r = a.get(run, img);
        return r ? [run, img, r.group_id, r.confidence, r.pinned] : [run, img];
      }),
    };
    if (withActive) snap.activeRun = getActiveRunId(this.db);
    return snap;
  }

  private apply(s: Snapshot): void {
    const upGroup = this.db.stmt(
      `INSERT INTO groups (id, run_id, cluster_index, name, origin, user_named, color, created_at)
       VALUES (@id, @run_id, @cluster_index, @name, @origin, @user_named, @color, @created_at)
       ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, cluster_index = excluded.cluster_index, name = excluded.name,
         origin = excluded.origin, user_named = excluded.user_named, color = COALESCE(excluded.color, groups.color),
         created_at = excluded.created_at`,
    );
    const upAssign = this.db.stmt(
      `INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned)
       SELECT @r, @i, @g, @c, @p WHERE EXISTS (SELECT 1 FROM images WHERE id = @i)
       ON CONFLICT (run_id, image_id) DO UPDATE SET group_id = excluded.group_id, confidence = excluded.confidence,
         pinned = excluded.pinned`,
    );
    const delAssign = this.db.stmt('DELETE FROM assignments WHERE run_id = ? AND image_id = ?');
    const delGroup = this.db.stmt('DELETE FROM groups WHERE id = ?');
    for (const [, row] of s.groups) if (row) upGroup.run({ ...row, color: row.color ?? null });
    for (const a of s.assignments) {
      if (a.length === 5) upAssign.run({ r: a[0], i: a[1], g: a[2], c: a[3], p: a[4] });
      else delAssign.run(a[0], a[1]);
    }
    for (const [id, row] of s.groups) if (!row) delGroup.run(id);
    if (s.activeRun !== undefined) setActiveRunId(this.db, s.activeRun);
  }

  /**
   * The edit template: plan the touched keys, capture, mutate, capture, log.
   * `mutate` may create groups; it returns their ids (absent before).
   */
  private edit<T extends object>(
    kind: EditKind,
    label: string,
    plan: () => Plan & { runId: number | null; refRunId?: number | null },
    mutate: (p: Plan) => { value: T; createdGroupIds?: number[] },
  ): T & EditResult {
    return this.db.write(() => {
      const p = plan();
      const before = this.capture(p.groupIds, p.assignmentKeys, p.activeRun ?? false);
      const { value, createdGroupIds = [] } = mutate(p);
      const groupIds = [...p.groupIds, ...createdGroupIds.filter((id) => !p.groupIds.includes(id))];
      for (const id of createdGroupIds) if (!p.groupIds.includes(id)) before.groups.push([id, null]);
      const after = this.capture(groupIds, p.assignmentKeys, p.activeRun ?? false);
      const payload = JSON.stringify({ before, after });
      if (JSON.stringify(before) === JSON.stringify(after)) return { ...value, editId: null };
      // A new edit discards the redo stack.
      this.db.stmt('DELETE FROM edits WHERE undone = 1').run();
      const r = this.db
        .stmt('INSERT INTO edits (kind, label, run_id, ref_run_id, payload, undone, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)')
        .run(kind, label, p.runId, p.refRunId ?? null, payload, Date.now());
      const editId = Number(r.lastInsertRowid);
      if (this.maxHistory > 0) {
        this.db.stmt('DELETE FROM edits WHERE id <= (SELECT id FROM edits ORDER BY id DESC LIMIT 1 OFFSET ?)').run(this.maxHistory);
      }
      return { ...value, editId };
    });
  }

  private requireActiveRun(): number {
    const run = getActiveRunId(this.db);
    if (run === null) throw new StoreNotFoundError('There are no groups yet (no active clustering run)');
    return run;
  }

  private requireGroupInRun(groupId: number, runId: number): GroupDb {
    const g = this.db
      .stmt<GroupDb>('SELECT id, run_id, cluster_index, name, origin, user_named, color, created_at FROM groups WHERE id = ?')
      .get(groupId);
    if (!g) throw new StoreNotFoundError(GROUP_GONE);
    if (g.run_id !== runId)
      throw new StaleEditError(`That group belongs to an earlier grouping (the images were regrouped since): nothing was changed`);
    return g;
  }

  /** A new group of the user's; its colour is the one given, else the run's smallest free slot. */
  private createUserGroup(runId: number, name: string, userNamed: boolean, color?: number): number {
    const slot =
      color ??
      smallestFree(
        this.db
          .stmt<{ c: number }>('SELECT color AS c FROM groups WHERE run_id = ? AND color IS NOT NULL')
          .all(runId)
          .map((r) => r.c),
      );
    return Number(
      this.db
        .stmt(
          `INSERT INTO groups (run_id, cluster_index, name, origin, user_named, color, created_at) VALUES (?, NULL, ?, 'user', ?, ?, ?)`,
        )
        .run(runId, name, userNamed ? 1 : 0, slot, Date.now()).lastInsertRowid,
    );
  }

  // ---- edits -------------------------------------------------------------------

  /**
   * Rename a group (marks it user-named; an empty name clears that). Its own name again changes
   * nothing: a rename dialog confirmed as it opened is no edit to undo.
   */
  renameGroup(groupId: number, name: string): EditResult {
    const clean = name.trim();
    return this.edit(
      'rename',
      clean ? `Rename group to "${clean}"` : 'Clear group name',
      () => {
        const run = this.requireActiveRun();
        this.requireGroupInRun(groupId, run);
        return { runId: run, groupIds: [groupId], assignmentKeys: [] };
      },
      () => {
        this.db.stmt('UPDATE groups SET name = ?, user_named = ? WHERE id = ? AND name != ?').run(clean, clean ? 1 : 0, groupId, clean);
        return { value: {} };
      },
    );
  }

  /** Merge `sourceIds` into `targetId` (sources are deleted; images keep confidence and pins). */
  mergeGroups(targetId: number, sourceIds: readonly number[], options: { name?: string } = {}): EditResult {
    const sources = uniq(sourceIds).filter((id) => id !== targetId);
    if (sources.length === 0) throw new StoreUsageError('Choose at least one other group to merge');
    return this.edit(
      'merge',
      `Merge ${sources.length + 1} groups`,
      () => {
        const run = this.requireActiveRun();
        this.requireGroupInRun(targetId, run);
        for (const s of sources) this.requireGroupInRun(s, run);
        const imgs = this.db
          .stmt<{ id: number }>(`SELECT image_id AS id FROM assignments WHERE run_id = ? AND group_id IN (SELECT value FROM json_each(?))`)
          .all(run, JSON.stringify(sources));
        return { runId: run, groupIds: [targetId, ...sources], assignmentKeys: imgs.map((r) => [run, r.id]) };
      },
      (p) => {
        const run = p.assignmentKeys[0]?.[0] ?? this.requireActiveRun();
        // No name given: a name the user gave wins over a generated one ("Tools" over "Group 3"),
        // the largest such group's when several have one.
        const named = this.db
          .stmt<{ id: number; name: string }>(
            `SELECT g.id, g.name FROM groups g LEFT JOIN assignments a ON a.group_id = g.id
             WHERE g.id IN (SELECT value FROM json_each(?)) AND g.user_named = 1
             GROUP BY g.id ORDER BY count(a.image_id) DESC, g.id LIMIT 1`,
          )
          .get(JSON.stringify([targetId, ...sources]));
        this.db
          .stmt(`UPDATE assignments SET group_id = ? WHERE run_id = ? AND group_id IN (SELECT value FROM json_each(?))`)
          .run(targetId, run, JSON.stringify(sources));
        const del = this.db.stmt('DELETE FROM groups WHERE id = ?');
        for (const s of sources) del.run(s);
        if (options.name !== undefined && options.name.trim()) {
          this.db.stmt('UPDATE groups SET name = ?, user_named = 1 WHERE id = ?').run(options.name.trim(), targetId);
        } else if (named && named.id !== targetId) {
          this.db.stmt('UPDATE groups SET name = ?, user_named = 1 WHERE id = ?').run(named.name, targetId);
        }
        return { value: {} };
      },
    );
  }

  /**
   * Split a group: `parts` come from the engine (images with their new
   * confidences). Part 0 stays in the original group; each further part
   * becomes a new group. Images of the group not listed stay where they are.
   */
  splitGroup(groupId: number, parts: readonly SplitPart[]): EditResult & { groupIds: number[] } {
    if (parts.length < 2) throw new StoreUsageError('A split needs at least two parts');
    const all = parts.flatMap((p) => p.images.map((i) => i.imageId));
    if (new Set(all).size !== all.length) throw new StoreUsageError('An image appears in two parts of the split');
    return this.edit(
      'split',
      `Split group into ${parts.length}`,
      () => {
        const run = this.requireActiveRun();
        this.requireGroupInRun(groupId, run);
        const inGroup = this.db.stmt('SELECT 1 FROM assignments WHERE run_id = ? AND image_id = ? AND group_id = ?');
        for (const id of all) {
          if (!inGroup.get(run, id, groupId))
            throw new StaleEditError(
              'Another edit moved images out of this group while it was being split: nothing was changed; split it again',
            );
        }
        return { runId: run, groupIds: [groupId], assignmentKeys: all.map((id) => [run, id]) };
      },
      (p) => {
        const run = this.requireActiveRun();
        void p;
        const upd = this.db.stmt('UPDATE assignments SET group_id = ?, confidence = ? WHERE run_id = ? AND image_id = ?');
        const groupIds: number[] = [];
        parts.forEach((part, k) => {
          let gid = groupId;
          if (k === 0) {
            if (part.name?.trim()) this.db.stmt('UPDATE groups SET name = ?, user_named = 1 WHERE id = ?').run(part.name.trim(), groupId);
          } else {
            gid = this.createUserGroup(run, part.name?.trim() ?? '', Boolean(part.name?.trim()));
          }
          groupIds.push(gid);
          for (const im of part.images) upd.run(gid, im.confidence, run, im.imageId);
        });
        return { value: { groupIds }, createdGroupIds: groupIds.slice(1) };
      },
    );
  }

  /** Move images into an existing group (pins them there: the user decided). */
  moveImages(imageIds: readonly number[], groupId: number): EditResult {
    const ids = uniq(imageIds);
    return this.edit(
      'move',
      `Move ${ids.length} image${ids.length === 1 ? '' : 's'}`,
      () => {
        const run = this.requireActiveRun();
        this.requireGroupInRun(groupId, run);
        return { runId: run, groupIds: [], assignmentKeys: ids.map((id) => [run, id]) };
      },
      () => {
        this.placeImages(this.requireActiveRun(), ids, groupId);
        return { value: {} };
      },
    );
  }

  /** Move images into a new user group (pinned). */
  moveImagesToNewGroup(imageIds: readonly number[], name = ''): EditResult & { groupId: number } {
    const ids = uniq(imageIds);
    const clean = name.trim();
    return this.edit(
      'move-new',
      clean
        ? `Move ${ids.length} image${ids.length === 1 ? '' : 's'} to new group "${clean}"`
        : `Move ${ids.length} image${ids.length === 1 ? '' : 's'} to a new group`,
      () => {
        const run = this.requireActiveRun();
        return { runId: run, groupIds: [], assignmentKeys: ids.map((id) => [run, id]) };
      },
      () => {
        const run = this.requireActiveRun();
        const groupId = this.createUserGroup(run, clean, clean !== '');
        this.placeImages(run, ids, groupId);
        return { value: { groupId }, createdGroupIds: [groupId] };
      },
    );
  }

  /** Remove images from their group: they become Unsorted (group NULL, pinned so re-clustering keeps them out). */
  removeFromGroup(imageIds: readonly number[]): EditResult {
    const ids = uniq(imageIds);
    return this.edit(
      'remove',
      `Remove ${ids.length} image${ids.length === 1 ? '' : 's'} from group`,
      () => {
        const run = this.requireActiveRun();
        return { runId: run, groupIds: [], assignmentKeys: ids.map((id) => [run, id]) };
      },
      () => {
        const run = this.requireActiveRun();
        const s = this.db.stmt(
          `INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned)
           SELECT @r, @i, NULL, 0, 1 WHERE EXISTS (SELECT 1 FROM images WHERE id = @i)
           ON CONFLICT (run_id, image_id) DO UPDATE SET group_id = NULL, pinned = 1`,
        );
        for (const id of ids) s.run({ r: run, i: id });
        return { value: {} };
      },
    );
  }

  /** Pin (accept) images in their current group, or unpin them. Unassigned images are ignored. */
  pinImages(imageIds: readonly number[], pinned = true): EditResult {
    const ids = uniq(imageIds);
    return this.edit(
      'pin',
      `${pinned ? 'Pin' : 'Unpin'} ${ids.length} image${ids.length === 1 ? '' : 's'}`,
      () => {
        const run = this.requireActiveRun();
        return { runId: run, groupIds: [], assignmentKeys: ids.map((id) => [run, id]) };
      },
      () => {
        const run = this.requireActiveRun();
        const s = this.db.stmt('UPDATE assignments SET pinned = ? WHERE run_id = ? AND image_id = ?');
        for (const id of ids) s.run(pinned ? 1 : 0, run, id);
        return { value: {} };
      },
    );
  }

  private placeImages(run: number, ids: readonly number[], groupId: number): void {
    const s = this.db.stmt(
      `INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned)
       SELECT @r, @i, @g, 1, 1 WHERE EXISTS (SELECT 1 FROM images WHERE id = @i)
       ON CONFLICT (run_id, image_id) DO UPDATE SET group_id = excluded.group_id, confidence = 1, pinned = 1`,
    );
    for (const id of ids) s.run({ r: run, i: id, g: groupId });
  }

  /**
   * Make `newRunId` (a finished run whose groups and assignments are written)
   * the active grouping, keeping the user's work from the current one:
   * - an old group goes on as one new group: the one given by `lineage` (old group id ->
   *   cluster index of the new run: the trainer was given that group's pins, or started from
   *   that group, as that cluster), else a new group at least half of whose images it held
   *   (greedy by Jaccard overlap). That group takes its name, user-given or "Group N", so names
   *   stay with the images they describe; a group that is mostly other images never takes it;
   * - pinned images keep their group: they go to the old group's successor, or to a new group
   *   with the old name when it has none; pinned-unsorted images stay unsorted;
   * - the other new groups are "Group N", N the smallest number no kept name uses.
   * Reads the current state inside the transaction, so edits made while the
   * run computed are kept. Undo switches back to the previous grouping.
   */
  recluster(newRunId: number, opts: { lineage?: ReadonlyMap<number, number> } = {}): EditResult & { summary: ReclusterSummary } {
    return this.edit(
      'recluster',
      'Regroup',
      () => {
        const run = this.db.stmt<{ status: string; k: number | null }>('SELECT status, k FROM runs WHERE id = ?').get(newRunId);
        if (!run) throw new StoreNotFoundError(`No run ${newRunId}`);
        if (run.status !== 'done') throw new StoreUsageError(`Run ${newRunId} is ${run.status}, not done`);
        const old = getActiveRunId(this.db);
        if (old === newRunId) throw new StoreUsageError(`Run ${newRunId} is already the current grouping`);
        const newGroups = this.db
          .stmt<{ id: number }>('SELECT id FROM groups WHERE run_id = ?')
          .all(newRunId)
          .map((r) => r.id);
        const pinned =
          old === null
            ? []
            : this.db
                .stmt<{ id: number }>('SELECT image_id AS id FROM assignments WHERE run_id = ? AND pinned = 1')
                .all(old)
                .map((r) => r.id);
        return {
          runId: newRunId,
          refRunId: old,
          groupIds: newGroups,
          assignmentKeys: pinned.map((id) => [newRunId, id]),
          activeRun: true,
        };
      },
      () => {
        const summary = this.carryOver(newRunId, opts.lineage ?? new Map());
        setActiveRunId(this.db, newRunId);
        return { value: { summary: summary.summary }, createdGroupIds: summary.created };
      },
    );
  }

  private carryOver(newRun: number, lineage: ReadonlyMap<number, number>): { summary: ReclusterSummary; created: number[] } {
    const old = getActiveRunId(this.db);
    const summary: ReclusterSummary = {
      previousRunId: old,
      renamedGroups: 0,
      keptNames: [],
      createdGroups: 0,
      carriedPins: 0,
      droppedNames: [],
      nameOffers: [],
    };
    const created: number[] = [];
    if (old === null) return { summary, created };

    const { oldGroups, newGroups, pins } = this.reclusterInputs(old, newRun);
    const { match, home } = this.matchGroups(old, newRun, oldGroups, newGroups, lineage);
    const carried = this.carryGroups(newRun, oldGroups, match, pins, summary, created);
    this.nameAndColorNewGroups(newGroups, carried);
    this.offerDroppedNames(carried.dropped, home, summary);
    this.carryPins(newRun, pins, carried.target, summary);
    return { summary, created };
  }

  /** The old run's groups that still hold images, the new run's groups, and the old run's pins. */
  private reclusterInputs(old: number, newRun: number): { oldGroups: GroupDb[]; newGroups: NewGroupRow[]; pins: PinRow[] } {
    const allOld = this.db
      .stmt<GroupDb>(
        'SELECT id, run_id, cluster_index, name, origin, user_named, COALESCE(color, id) AS color, created_at FROM groups WHERE run_id = ? ORDER BY id',
      )
      .all(old);
    // Groups the user emptied (every image moved out, merged away) are gone from every screen:
    // nothing of theirs goes on, and no message names them.
    const live = new Set(
      this.db
        .stmt<{ g: number }>(
          `SELECT DISTINCT a.group_id AS g FROM assignments a JOIN images i ON i.id = a.image_id WHERE a.run_id = ? AND a.group_id IS NOT NULL AND i.status IN ('ok', 'pending')`,
        )
        .all(old)
        .map((r) => r.g),
    );
    const oldGroups = allOld.filter((g) => live.has(g.id));
    const newGroups = this.db
      .stmt<NewGroupRow>('SELECT id, cluster_index AS clusterIndex FROM groups WHERE run_id = ? ORDER BY cluster_index, id')
      .all(newRun);
    const pins = this.db
      .stmt<PinRow>('SELECT image_id AS imageId, group_id AS groupId, confidence FROM assignments WHERE run_id = ? AND pinned = 1')
      .all(old);
    return { oldGroups, newGroups, pins };
  }

  /**
   * Each old group's name and colour go to its match; an unmatched group holding pins goes on as
   * a new group of its own; an unmatched user-named one is dropped (its name offered back later).
   */
  private carryGroups(
    newRun: number,
    oldGroups: readonly GroupDb[],
    match: ReadonlyMap<number, number>,
    pins: readonly PinRow[],
    summary: ReclusterSummary,
    created: number[],
  ): CarriedGroups {
    const pinnedGroups = new Set(pins.map((p) => p.groupId).filter((g): g is number => g !== null));
    const rename = this.db.stmt('UPDATE groups SET name = ?, user_named = ? WHERE id = ?');
    const recolor = this.db.stmt('UPDATE groups SET color = ? WHERE id = ?');
    const carried: CarriedGroups = {
      target: new Map(),
      // Every name of the old grouping is kept out of the new groups' numbering: "Group 1" of the
      // dams must not become the pliers' name because the dams' group went elsewhere.
      names: new Set(oldGroups.map((g) => g.name)),
      named: new Set(),
      colors: new Set(),
      colored: new Set(),
      dropped: [],
    };
    for (const g of oldGroups) {
      const m = match.get(g.id);
      if (m !== undefined) {
        carried.target.set(g.id, m);
        // The colour goes where the name goes, so the map keeps its look for the same groups.
        recolor.run(g.color, m);
        carried.colors.add(g.color!);
        carried.colored.add(m);
        if (g.name !== '') {
          rename.run(g.name, g.user_named, m);
          carried.named.add(m);
        }
        if (g.user_named === 1) {
          summary.renamedGroups++;
          summary.keptNames.push(g.name);
        }
      } else if (pinnedGroups.has(g.id)) {
        const id = this.createUserGroup(newRun, g.name, g.user_named === 1, g.color!);
        carried.colors.add(g.color!);
        created.push(id);
        carried.target.set(g.id, id);
        summary.createdGroups++;
      } else if (g.user_named === 1) {
        summary.droppedNames.push(g.name);
        carried.dropped.push(g);
      }
    }
    return carried;
  }

  /**
   * The new groups without a name from the old ones: "Group N", N the smallest number no name
   * of the old or the new grouping uses; without an old colour: the smallest free slots.
   */
  private nameAndColorNewGroups(newGroups: readonly NewGroupRow[], carried: CarriedGroups): void {
    const rename = this.db.stmt('UPDATE groups SET name = ?, user_named = ? WHERE id = ?');
    const recolor = this.db.stmt('UPDATE groups SET color = ? WHERE id = ?');
    const { names, named, colors, colored } = carried;
    let next = 1;
    for (const g of newGroups) {
      if (named.has(g.id)) continue;
      while (names.has(`Group ${next}`)) next++;
      rename.run(`Group ${next}`, 0, g.id);
      names.add(`Group ${next}`);
    }
    for (const g of newGroups) {
      if (colored.has(g.id)) continue;
      const slot = smallestFree(colors);
      recolor.run(slot, g.id);
      colors.add(slot);
    }
  }

  /** A dropped name is offered back to the group most of its images went to. */
  private offerDroppedNames(
    dropped: readonly GroupDb[],
    home: ReadonlyMap<number, { groupId: number; count: number; of: number }>,
    summary: ReclusterSummary,
  ): void {
    const nameOf = this.db.stmt<{ name: string }>('SELECT name FROM groups WHERE id = ?');
    for (const g of dropped) {
      const h = home.get(g.id);
      if (h)
        summary.nameOffers.push({
          name: g.name,
          groupId: h.groupId,
          groupName: nameOf.get(h.groupId)?.name ?? '',
          count: h.count,
          of: h.of,
        });
    }
  }

  /** Pinned images keep their group's successor (`target`); pinned-unsorted ones stay unsorted. */
  private carryPins(newRun: number, pins: readonly PinRow[], target: ReadonlyMap<number, number>, summary: ReclusterSummary): void {
    const put = this.db.stmt(
      `INSERT INTO assignments (run_id, image_id, group_id, confidence, pinned)
       SELECT @r, @i, @g, @c, 1 WHERE EXISTS (SELECT 1 FROM images WHERE id = @i)
       ON CONFLICT (run_id, image_id) DO UPDATE SET group_id = excluded.group_id, confidence = excluded.confidence, pinned = 1`,
    );
    for (const p of pins) {
      const gid = p.groupId === null ? null : (target.get(p.groupId) ?? null);
      put.run({ r: newRun, i: p.imageId, g: gid, c: p.confidence });
      summary.carriedPins++;
    }
  }

  /**
   * Which new group each old group goes on as, and where most of each old group's images went
   * (`home`). A name follows the majority of its images and never lands where they are a
   * minority: an old group goes on as a new group only when at least half of that group's
   * images were its own. Among those, first the groups the trainer continued (their pins, or its
   * start, as a cluster index: `lineage`), then each old group's home, one-to-one, greedy by
   * Jaccard overlap. (A trainer told that the "Solar panels" pins are its cluster 2 may still
   * fill cluster 2 with windmills: then the pins go on as a group of their own, and "Windmills"
   * may go to cluster 2.)
   */
  private matchGroups(
    old: number,
    newRun: number,
    oldGroups: readonly GroupDb[],
    newGroups: readonly NewGroupRow[],
    lineage: ReadonlyMap<number, number>,
  ): { match: Map<number, number>; home: Map<number, { groupId: number; count: number; of: number }> } {
    const overlaps = this.db
      .stmt<{ og: number; ng: number; c: number }>(
        `SELECT o.group_id AS og, n.group_id AS ng, count(*) AS c
         FROM assignments o JOIN assignments n ON n.run_id = ? AND n.image_id = o.image_id
         WHERE o.run_id = ? AND o.group_id IS NOT NULL AND n.group_id IS NOT NULL
         GROUP BY o.group_id, n.group_id`,
      )
      .all(newRun, old);
    const oldSize = new Map<number, number>();
    const newSize = new Map<number, number>();
    const overlap = new Map<string, number>();
    for (const { og, ng, c } of overlaps) {
      oldSize.set(og, (oldSize.get(og) ?? 0) + c);
      overlap.set(`${og}:${ng}`, c);
    }
    for (const r of this.db
      .stmt<{ ng: number; c: number }>(
        'SELECT group_id AS ng, count(*) AS c FROM assignments WHERE run_id = ? AND group_id IS NOT NULL GROUP BY group_id',
      )
      .all(newRun)) {
      newSize.set(r.ng, r.c);
    }
    const jaccard = (og: number, ng: number, c: number) => c / (oldSize.get(og)! + newSize.get(ng)! - c);
    // Where most of each old group's images went (ties: the closer match).
    const home = new Map<number, { groupId: number; count: number; of: number }>();
    for (const { og, ng, c } of overlaps) {
      const h = home.get(og);
      if (!h || c > h.count || (c === h.count && jaccard(og, ng, c) > jaccard(og, h.groupId, h.count)))
        home.set(og, { groupId: ng, count: c, of: oldSize.get(og)! });
    }
    const notMinority = (og: number, ng: number) =>
      2 * (overlap.get(`${og}:${ng}`) ?? 0) >= (newSize.get(ng) ?? 0) && (newSize.get(ng) ?? 0) > 0;

    const match = new Map<number, number>(); // old group -> new group
    const taken = new Set<number>();
    // 1. The groups the trainer continued, where their images are no minority.
    const byIndex = new Map(newGroups.filter((g) => g.clusterIndex !== null).map((g) => [g.clusterIndex!, g.id]));
    for (const g of oldGroups) {
      const c = lineage.get(g.id);
      const ng = c === undefined ? undefined : byIndex.get(c);
      if (ng === undefined || taken.has(ng) || !notMinority(g.id, ng)) continue;
      match.set(g.id, ng);
      taken.add(ng);
    }
    // 2. The others: each to its home, where its images are no minority, best overlap first.
    const candidates = oldGroups
      .filter((g) => !match.has(g.id) && home.has(g.id))
      .map((g) => ({ og: g.id, ng: home.get(g.id)!.groupId, jaccard: jaccard(g.id, home.get(g.id)!.groupId, home.get(g.id)!.count) }))
      .filter(({ og, ng }) => notMinority(og, ng))
      .sort((a, b) => b.jaccard - a.jaccard || a.og - b.og || a.ng - b.ng);
    for (const { og, ng } of candidates) {
      if (match.has(og) || taken.has(ng)) continue;
      match.set(og, ng);
      taken.add(ng);
    }
    return { match, home };
  }

  // ---- undo / redo ---------------------------------------------------------------

  /** Undo the newest applied edit; returns it, or null when there is nothing to undo. */
  undo(): EditEntry | null {
    return this.db.write(() => {
      const e = this.db
        .stmt<{ id: number; payload: string }>('SELECT id, payload FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT 1')
        .get();
      if (!e) return null;
      this.apply((JSON.parse(e.payload) as { before: Snapshot }).before);
      this.db.stmt('UPDATE edits SET undone = 1 WHERE id = ?').run(e.id);
      return this.entry(e.id);
    });
  }

  /** Redo the oldest undone edit; returns it, or null when there is nothing to redo. */
  redo(): EditEntry | null {
    return this.db.write(() => {
      const e = this.db
        .stmt<{ id: number; payload: string }>('SELECT id, payload FROM edits WHERE undone = 1 ORDER BY id ASC LIMIT 1')
        .get();
      if (!e) return null;
      this.apply((JSON.parse(e.payload) as { after: Snapshot }).after);
      this.db.stmt('UPDATE edits SET undone = 0 WHERE id = ?').run(e.id);
      return this.entry(e.id);
    });
  }

  private entry(id: number): EditEntry {
    const r = this.db
      .stmt<Omit<EditEntry, 'undone'> & { undone: number }>(
        'SELECT id, kind, label, run_id AS runId, created_at AS createdAt, undone FROM edits WHERE id = ?',
      )
      .get(id)!;
    return { ...r, undone: r.undone === 1 };
  }

  /** What undo() would undo next. */
  nextUndo(): EditEntry | null {
    const r = this.db.stmt<{ id: number }>('SELECT id FROM edits WHERE undone = 0 ORDER BY id DESC LIMIT 1').get();
    return r ? this.entry(r.id) : null;
  }

  /** What redo() would redo next. */
  nextRedo(): EditEntry | null {
    const r = this.db.stmt<{ id: number }>('SELECT id FROM edits WHERE undone = 1 ORDER BY id ASC LIMIT 1').get();
    return r ? this.entry(r.id) : null;
  }

  canUndo(): boolean {
    return this.nextUndo() !== null;
  }

  canRedo(): boolean {
    return this.nextRedo() !== null;
  }

  /** Newest first (applied and undone). */
  history(limit = 100): EditEntry[] {
    return this.db
      .stmt<Omit<EditEntry, 'undone'> & { undone: number }>(
        'SELECT id, kind, label, run_id AS runId, created_at AS createdAt, undone FROM edits ORDER BY id DESC LIMIT ?',
      )
      .all(limit)
      .map((r) => ({ ...r, undone: r.undone === 1 }));
  }
}
