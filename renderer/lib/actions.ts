/**
 * The edit actions, shared by the Groups, Group, Map, Image and Review screens. Each asks for
 * what it needs (a name, a number of parts) through the app's dialog, then runs through
 * `app.edits.act` so it is undoable, refreshes the screens and reports errors the same way.
 */
import type { GroupRef, GroupSuggestion, GroupSummary, HistoryState } from '../../core/shared/contract.js';
import type { App } from './state/app.js';
import { fmtCount, message, plural } from './format.js';

export function groupActions(app: App) {
  const c = app.client;
  const moveToGroup = async (imageIds: number[], groupId: number, name: string) => {
    if (!imageIds.length) return null;
    return app.edits.act(`Moved ${plural(imageIds.length, 'image')} to “${name}”`, () => c.moveImages({ imageIds, to: { groupId } }));
  };
  /**
   * "Split “Birds” into 8 and 5 images; 2 went to Unsorted". The split returns only the new
   * groups' ids, so their sizes are read back; what the group had and they lack fell below the
   * Unsorted threshold (the re-clustering is less sure of them).
   */
  const splitOutcome = async (g: Pick<GroupSummary, 'name' | 'count'>, groupIds: number[]): Promise<string> => {
    const head = `Split “${g.name}” into`;
    let sizes: number[];
    try {
      const { groups } = await c.listGroups({ sort: 'size' });
      sizes = groupIds.map((id) => groups.find((x) => x.id === id)?.count ?? 0);
    } catch {
      return `${head} ${groupIds.length}`;
    }
    const counts = sizes.map(fmtCount);
    const list = counts.length > 1 ? `${counts.slice(0, -1).join(', ')} and ${counts.at(-1)}` : (counts[0] ?? '0');
    // The parts are re-scored: some images fall below the Unsorted threshold, and some of the
    // group's that were below it (in Unsorted) rise above it and join a part. Say which, so
    // the counts add up ("4, 6 and 5 images; 1 from Unsorted joined them", of 14).
    const unsorted = g.count - sizes.reduce((a, b) => a + b, 0);
    const tail =
      unsorted > 0 ? `; ${fmtCount(unsorted)} went to Unsorted` : unsorted < 0 ? `; ${fmtCount(-unsorted)} from Unsorted joined them` : '';
    return `${head} ${list} images${tail}`;
  };
  return {
    async rename(g: Pick<GroupSummary, 'id' | 'name'>): Promise<HistoryState | null> {
      let out: HistoryState | null = null;
      // A refused name (taken, "Unsorted", only spaces) is shown in the dialog, which stays open.
      await app.dialogs.ask({
        title: 'Rename group',
        fields: [{ name: 'name', label: 'Name', type: 'text', required: true, value: g.name }],
        confirm: 'Rename',
        submit: async (v) => {
          const name = v['name']?.trim() ?? '';
          if (!name) return 'A group needs a name'; // the field's "required" lets spaces through
          if (name === g.name) return null;
          let error: string | null = null;
          out = await app.edits.act(
            `Renamed to “${name}”`,
            () => c.renameGroup({ groupId: g.id, name }),
            null,
            (m) => (error = m),
          );
          return error;
        },
      });
      return out;
    },

    async merge(ids: number[], groups: Array<Pick<GroupSummary, 'id' | 'name' | 'count'> & { userNamed?: boolean }>) {
      if (ids.length < 2) return null;
      const chosen = groups.filter((g) => ids.includes(g.id));
      // A name the user gave wins over a generated one ("Tools", not "Group 3"), then the larger.
      const biggest = [...chosen].sort((a, b) => Number(b.userNamed ?? false) - Number(a.userNamed ?? false) || b.count - a.count)[0];
      const v = await app.dialogs.ask({
        title: `Merge ${ids.length} groups`,
        body: chosen.map((g) => g.name).join(', '),
        // Optional: left empty, the merged group keeps a name of its own.
        fields: [{ name: 'name', label: 'Name of the merged group', type: 'text', required: false, value: biggest?.name ?? '' }],
        confirm: 'Merge',
      });
      if (!v) return null;
      const name = v['name']?.trim();
      return app.edits.act(`Merged ${ids.length} groups`, () => c.mergeGroups({ groupIds: ids, name: name || undefined }));
    },

    async split(g: Pick<GroupSummary, 'id' | 'name' | 'count'>) {
      const v = await app.dialogs.ask({
        title: `Split “${g.name}”`,
        body: 'Re-clusters just this group into several smaller ones.',
        fields: [{ name: 'parts', label: 'Number of parts', type: 'number', required: true, value: 2, min: 2, max: 50 }],
        confirm: 'Split',
      });
      const parts = Number(v?.['parts']);
      if (!v || !Number.isInteger(parts) || parts < 2) return null;
      // Re-clustering takes seconds: say so while it runs, then what came of it.
      return app.edits.act(
        (res) => splitOutcome(g, res.groupIds),
        () => c.splitGroup({ groupId: g.id, parts }),
        `Splitting “${g.name}” into ${parts}…`,
      );
    },

    async recluster(current: number) {
      const v = await app.dialogs.ask({
        title: 'Regroup everything',
        body: 'With the same number of groups, training starts from your groups and learns from the images you moved or pinned; every group keeps its name. With another number, it starts afresh: groups holding pinned images go on with their names, and any other name goes to a group made at least half of its images. Undoable.',
        fields: [
          { name: 'groups', label: 'Number of groups', type: 'number', required: true, value: Math.max(2, current), min: 2, max: 1000 },
        ],
        confirm: 'Regroup',
      });
      const groups = Number(v?.['groups']);
      if (!v || !Number.isInteger(groups) || groups < 2) return null;
      try {
        app.session.job = await c.recluster({ groups });
      } catch (err) {
        app.notices.toast('error', err instanceof Error ? err.message : String(err));
      }
      return null;
    },

    /**
     * Asks which group (or a new one) and moves the images there. The list starts on the
     * first group suggested for them (`suggestions`, most likely first: what the 1 key sends
     * to; without them, those of the first image), else on "A new group…". A "new" name that a
     * group already has moves the images to that group, as choosing it would.
     */
    async moveTo(imageIds: number[], exclude: number | 'unsorted' | null = null, suggestions: GroupSuggestion[] | null = null) {
      if (!imageIds.length) return null;
      let groups: GroupSummary[] = [];
      let suggested = suggestions?.length ? suggestions : null; // none yet (still loading): ask
      await Promise.all([
        c
          .listGroups({ sort: 'name' })
          .then((r) => (groups = r.groups))
          .catch(() => {
            /* still allow a new group */
          }),
        suggested
          ? null
          : c
              .getImage({ id: imageIds[0]! })
              .then((d) => (suggested = otherSuggestions(d.suggestions, d.groupId)))
              .catch(() => {
                /* no suggestion: the list starts on a new group */
              }),
      ]);
      const choices = groups.filter((g) => g.id !== exclude);
      const top = suggested?.find((s) => choices.some((g) => g.id === s.groupId));
      const count = plural(imageIds.length, 'image');
      let moved: Awaited<ReturnType<typeof c.moveImages>> | null = null;
      const v = await app.dialogs.ask({
        title: `Move ${count}`,
        fields: [
          {
            name: 'to',
            label: 'To group',
            type: 'groups',
            value: top ? String(top.groupId) : '__new',
            options: [
              { value: '__new', label: 'A new group…' },
              ...choices.map((g) => ({
                value: String(g.id),
                label: g.name,
                detail: `${plural(g.count, 'image')}${g.id === top?.groupId ? ' · suggested' : ''}`,
                ...(g.typicalImageIds[0] !== undefined ? { thumb: c.thumbnailUrl(g.typicalImageIds[0]) } : {}),
                color: app.colours.css(g.id),
                key: app.groupKeys.keyOf(g.id),
              })),
            ],
          },
          // Only for a new group: hidden (and so not required) while an existing one is chosen.
          {
            name: 'name',
            label: 'New group name',
            type: 'text',
            required: true,
            when: { field: 'to', is: '__new' },
            value: '',
            placeholder: 'e.g. Beach 2023',
          },
        ],
        confirm: 'Move',
        // A new group's name that is refused ("Unsorted") is shown in the dialog, which stays open.
        submit: async (v) => {
          if (v['to'] !== '__new') return null;
          const name = v['name']?.trim() ?? '';
          if (!name) return 'Give the new group a name';
          let error: string | null = null;
          // Names are unique whatever the case (the core refuses a second "Birds"): the group
          // typed is the group meant.
          const existing = groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
          if (existing && existing.id === exclude)
            return `${imageIds.length === 1 ? 'It is' : 'They are'} already in “${existing.name}”: choose another group`;
          if (existing)
            moved = await app.edits.act(
              `Moved ${count} to “${existing.name}”`,
              () => c.moveImages({ imageIds, to: { groupId: existing.id } }),
              null,
              (m) => (error = m),
            );
          else
            moved = await app.edits.act(
              `Moved ${count} to new group “${name}”`,
              () => c.moveImages({ imageIds, to: { newGroupName: name } }),
              null,
              (m) => (error = m),
            );
          return error;
        },
      });
      if (!v) return null;
      if (v['to'] === '__new') return moved;
      const gid = Number(v['to']);
      const gname = groups.find((g) => g.id === gid)?.name ?? 'group';
      return app.edits.act(`Moved ${plural(imageIds.length, 'image')} to “${gname}”`, () =>
        c.moveImages({ imageIds, to: { groupId: gid } }),
      );
    },

    moveToGroup,

    /**
     * Moves the images to the group the number key `key` stands for this session (shown on the
     * group, in the Move list and on each "send to" button; see state/groupKeys), never to a
     * rank in a list; nothing when they are already there (`current`).
     */
    async sendToKey(imageIds: number[], key: number, current: GroupRef | null = null) {
      const groupId = app.groupKeys.groupOf(key);
      if (groupId === null) {
        app.notices.toast('info', `No group has the number ${key}: the numbers are on the group cards and in the Move list`);
        return null;
      }
      if (groupId === current) return null;
      return moveToGroup(imageIds, groupId, app.groupKeys.names.get(groupId) ?? 'group');
    },

    /** Moves the images to one group (a "send to" button). */
    sendToGroup: (imageIds: number[], s: Pick<GroupSuggestion, 'groupId' | 'name'>) => moveToGroup(imageIds, s.groupId, s.name),

    async remove(imageIds: number[]) {
      if (!imageIds.length) return null;
      return app.edits.act(`Removed ${plural(imageIds.length, 'image')} to Unsorted`, () => c.removeFromGroup({ imageIds }));
    },

    async pin(imageIds: number[], pinned = true) {
      if (!imageIds.length) return null;
      return app.edits.act(`${pinned ? 'Pinned' : 'Unpinned'} ${plural(imageIds.length, 'image')}`, () =>
        c.pinImages({ imageIds, pinned }),
      );
    },
  };
}

export type GroupActions = ReturnType<typeof groupActions>;

/** The groups an image could go to instead of `current`, most likely first. */
export function otherSuggestions(suggestions: GroupSuggestion[], current: GroupRef | null, limit = 9): GroupSuggestion[] {
  return suggestions.filter((s) => s.groupId !== current).slice(0, limit);
}

/**
 * Adds a folder (the Libraries screen's "Add", File > Add Folder…). The first folder starts the
 * grouping; once there are groups, its images are placed in them and the user's groups, names
 * and fixes stay as they are (Regroup… reshapes the groups when the user asks).
 */
export async function addFolder(app: App, path: string, groups: number | null = null): Promise<boolean> {
  try {
    await app.client.addLibrary({ path });
  } catch (err) {
    app.notices.toast('error', message(err));
    return false;
  }
  app.versions.libraries++;
  await scanFolders(app, groups);
  return true;
}

/** Looks at the folders again: groups them the first time, else places what is new in the groups. */
export async function scanFolders(app: App, groups: number | null = null): Promise<void> {
  try {
    app.session.job = app.session.status?.hasRun ? await app.client.placeNewImages({}) : await app.client.startClustering({ groups });
  } catch (err) {
    app.notices.toast('error', message(err));
  }
}
