// @vitest-environment jsdom
/**
 * The photo organizer's defects, each pinned by a component test with a fake Client (issue 21):
 * a text field editing a value opens with it selected, the number keys stay with their group,
 * Review after a Split, an emptied group, the model-loading phase, "yours" instead of 100%.
 */
import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../../core/shared/client.js';
import type { GroupSummary, HistoryState, ImageDetail, ImageSummary, JobState } from '../../core/shared/contract.js';
import { backendText } from '../../renderer/lib/format.js';
import { appContext, createApp } from '../../renderer/lib/state/app.js';
import { groupActions } from '../../renderer/lib/actions.js';
import DialogHost from '../../renderer/components/DialogHost.svelte';

(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

interface Input {
  value: string;
  selectionStart: number | null;
  selectionEnd: number | null;
}
const doc = globalThis as unknown as { document: { activeElement: unknown } };

const H: HistoryState = { canUndo: true, canRedo: false, undoId: 1, undoLabel: 'x', redoLabel: null };

export function organizerClient(groups: GroupSummary[], images: ImageSummary[] = []) {
  const c = {
    subscribe: () => () => {},
    thumbnailUrl: (id: number) => `thumb/${id}`,
    imageUrl: (id: number) => `image/${id}`,
    getStatus: vi.fn(async () => ({ version: 't', dbPath: 'x', backend: null, job: null, unsortedThreshold: 0.6, hasRun: true })),
    getHistory: vi.fn(async () => H),
    listGroups: vi.fn(async () => ({ groups, unsortedCount: 0, ungroupedCount: 0, unsortedThreshold: 0.6 })),
    listGroupImages: vi.fn(async () => ({ items: images, total: images.length })),
    getImage: vi.fn(async ({ id }: { id: number }): Promise<ImageDetail> => ({
      ...images.find((i) => i.id === id)!,
      path: `/p/${id}.jpg`,
      size: 1,
      mtime: '',
      camera: null,
      groupName: null,
      neighbours: [],
      suggestions: [],
    })),
    renameGroup: vi.fn(async () => H),
    mergeGroups: vi.fn(async () => ({ ...H, groupId: 1 })),
    moveImages: vi.fn(async () => ({ ...H, groupId: 1 })),
  };
  return c as unknown as Client & typeof c;
}

const group = (id: number, name: string, count: number, userNamed = false): GroupSummary => ({
  id,
  name,
  userNamed,
  color: id,
  count,
  meanConfidence: 0.8,
  typicalImageIds: [],
});

describe('defect 1: a text field that edits an existing value opens with it selected', () => {
  it('Rename: the current name is selected, so typing replaces it', async () => {
    const client = organizerClient([group(2, 'Group 2', 5)]);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).rename({ id: 2, name: 'Group 2' });
    const input = (await screen.findByRole('textbox')) as unknown as Input;
    await tick();
    expect(doc.document.activeElement).toBe(input);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 'Group 2'.length]);
  });

  it('Merge: the proposed name is selected too', async () => {
    const client = organizerClient([group(1, 'Tools', 5, true), group(2, 'Group 3', 9)]);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).merge([1, 2], [group(1, 'Tools', 5, true), group(2, 'Group 3', 9)]);
    const input = (await screen.findByRole('textbox')) as unknown as Input;
    await tick();
    expect(input.selectionEnd! - input.selectionStart!).toBe(input.value.length);
  });
});

describe('defect 8: progress while the model loads, epochs, CPU not wasm', () => {
  it('shows "Loading the model…" as its own phase, the clustering epochs with their unit, and the device as CPU', async () => {
    const { default: JobProgress } = await import('../../renderer/components/JobProgress.svelte');
    const job = (phases: JobState['phases'], phase: JobState['phase']): JobState => ({
      id: 'j',
      kind: 'cluster',
      status: 'running',
      phase,
      phases,
      startedAt: '',
    });
    const p = (name: JobState['phases'][number]['name'], done: number, total: number | null) => ({
      name,
      done,
      total,
      rate: null,
      etaSeconds: null,
    });
    const { container, rerender } = render(JobProgress, {
      job: job([p('scan', 143, null), p('check', 143, 143), p('model', 0, null)], 'model'),
    });
    const current = () => container.querySelector('li.current')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(current()).toBe('Loading the model…');
    await rerender({
      job: job([p('scan', 143, null), p('check', 143, 143), p('model', 0, null), p('embed', 143, 143), p('train', 1, 30)], 'train'),
    });
    expect(current()).toContain('1 / 30 epochs');
    expect(backendText({ choice: 'wasm', device: 'CPU (WebAssembly SIMD, 1 thread per worker)' })).toBe('CPU');
    expect(backendText({ choice: 'tfjs-node-gpu', device: 'GPU (CUDA, tfjs-node-gpu)' })).toBe('GPU');
  });
});

describe('defect 10: what the user placed reads "yours", not "100% sure"', () => {
  it('a group whose images the user placed, and a moved image', async () => {
    const { default: Groups } = await import('../../renderer/screens/Groups.svelte');
    const mine = { ...group(7, 'Mom', 3, true), pinned: 3, meanConfidence: 0 };
    const client = organizerClient([group(1, 'Birds', 10), mine]);
    const { container } = render(Groups, { context: appContext(createApp(client)) });
    await screen.findByText('Mom');
    expect(container.querySelector('.gcard[data-group-id="7"] .stats')!.textContent).toContain('yours');
    expect(container.querySelector('.gcard[data-group-id="7"] .stats')!.textContent).not.toContain('%');
    expect(container.querySelector('.gcard[data-group-id="1"] .stats')!.textContent).toContain('80% sure');
  });
});

describe('defect 2: a number key always means the same group, never a rank', () => {
  it('in Review, 2 sends to the group numbered 2 whatever the order of that image’s suggestions', async () => {
    const { default: Review } = await import('../../renderer/screens/Review.svelte');
    const groups = [group(11, 'Group 1', 30), group(12, 'Group 2', 20), group(13, 'Group 3', 10)];
    const img = (id: number): ImageSummary => ({
      id,
      name: `${id}.jpg`,
      groupId: 11,
      confidence: 0.3,
      pinned: false,
      width: 1,
      height: 1,
      takenAt: null,
    });
    const client = organizerClient(groups, [img(1), img(2)]);
    // this image's suggestions put "Group 3" second: the rank the 2 key used to mean
    const suggestions = [
      { groupId: 11, name: 'Group 1', probability: 0.5 },
      { groupId: 13, name: 'Group 3', probability: 0.3 },
      { groupId: 12, name: 'Group 2', probability: 0.2 },
    ];
    const withQueue = client as typeof client & { reviewQueue: unknown };
    withQueue.reviewQueue = vi.fn(async () => ({
      items: [
        { ...img(1), assignedGroupId: 11, suggestions },
        { ...img(2), assignedGroupId: 11, suggestions },
      ],
    }));
    const app = createApp(client);
    await app.colours.refresh();
    expect(app.groupKeys.keyOf(12)).toBe(2);
    const { container } = render(Review, { context: appContext(app) });
    await screen.findByText('1.jpg');
    // the buttons carry the groups' numbers, not their ranks
    const labels = [...container.querySelectorAll('[aria-label="or send to"] button')].map((b) =>
      b.textContent!.replace(/\s+/g, ' ').trim(),
    );
    expect(labels[0]).toMatch(/^3 ?Group 3/);
    expect(labels[1]).toMatch(/^2 ?Group 2/);
    expect(app.keys.handler!({ kind: 'send', n: 2 })).toBe(true);
    await vi.waitFor(() => expect(client.moveImages).toHaveBeenCalledWith({ imageIds: [1], to: { groupId: 12 } }));
  });

  it('keeps each group’s number through new groups, a group going away, a reload and a regroup', async () => {
    const { GroupKeys } = await import('../../renderer/lib/state/groupKeys.svelte.js');
    const saved = new Map<string, string>();
    const storage = { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => void saved.set(k, v) };
    const keys = new GroupKeys(storage);
    const g = (id: number, count: number, color = id) => ({ id, name: `G${id}`, color, count });
    keys.sync([g(1, 5), g(2, 50), g(3, 20)]);
    expect([keys.keyOf(2), keys.keyOf(3), keys.keyOf(1)]).toEqual([1, 2, 3]); // largest first at the start
    keys.sync([g(1, 60), g(2, 1), g(3, 20), g(4, 30)]); // sizes change, a split adds group 4
    expect([keys.keyOf(2), keys.keyOf(3), keys.keyOf(1), keys.keyOf(4)]).toEqual([1, 2, 3, 4]);
    keys.sync([g(1, 60), g(2, 1), g(4, 30)]); // group 3 merged away: its number waits for it
    expect(keys.groupOf(2)).toBeNull();
    keys.sync([g(1, 60), g(2, 1), g(4, 30), g(5, 3)]);
    expect(keys.keyOf(5)).toBe(5);
    const reloaded = new GroupKeys(storage);
    reloaded.sync([g(1, 60), g(2, 1), g(3, 20), g(4, 30), g(5, 3)]); // undo brought group 3 back
    expect(reloaded.keyOf(3)).toBe(2);
    // a regroup: new ids, each group going on with its colour slot
    reloaded.sync([g(21, 60, 1), g(22, 1, 2), g(23, 20, 3), g(24, 30, 4), g(25, 3, 5)]);
    expect([21, 22, 23, 24, 25].map((id) => reloaded.keyOf(id))).toEqual([3, 1, 2, 4, 5]);
  });
});

describe('defect 3: Review after a Split', () => {
  it('the best guess is the most likely group, never listed below another; Enter puts the image there', async () => {
    const { default: Review } = await import('../../renderer/screens/Review.svelte');
    const groups = [group(11, 'Birds', 30), group(12, 'Birds (2)', 8)];
    // made by Split: its own part (12) at 51% of the split, but the image is most like 11
    const item = {
      id: 5,
      name: '5.jpg',
      groupId: null,
      confidence: 0.51,
      pinned: false,
      width: 1,
      height: 1,
      takenAt: null,
      assignedGroupId: 12,
    };
    const suggestions = [
      { groupId: 11, name: 'Birds', probability: 0.94 },
      { groupId: 12, name: 'Birds (2)', probability: 0.06 },
    ];
    const client = organizerClient(groups);
    (client as unknown as { reviewQueue: unknown }).reviewQueue = vi.fn(async () => ({ items: [{ ...item, suggestions }] }));
    const app = createApp(client);
    const { container } = render(Review, { context: appContext(app) });
    await screen.findByText('5.jpg');
    const guess = container.querySelector('.guess')!.textContent!.replace(/\s+/g, ' ');
    expect(guess).toContain('Birds 94%');
    // the list below offers the new part, not the best guess again
    const list = container.querySelector('[aria-label="or send to"]')!.textContent!;
    expect(list).toContain('Birds (2)');
    expect(list).not.toMatch(/Birds\s*94%/);
    app.keys.handler!({ kind: 'open' });
    await vi.waitFor(() => expect(client.moveImages).toHaveBeenCalledWith({ imageIds: [5], to: { groupId: 11 } }));
  });
});

describe('defect 7: emptying the open group', () => {
  it('goes back to Groups with a note instead of a red "Group gone" page', async () => {
    const { default: Group } = await import('../../renderer/screens/Group.svelte');
    const img = (id: number): ImageSummary => ({
      id,
      name: `${id}.jpg`,
      groupId: 4,
      confidence: 0.9,
      pinned: false,
      width: 1,
      height: 1,
      takenAt: null,
    });
    const groups = [group(4, 'Fish', 2), group(5, 'Birds', 9)];
    const client = organizerClient(groups, [img(1), img(2)]);
    const app = createApp(client);
    app.navigation.route = { name: 'group', id: 4 };
    render(Group, { props: { groupId: 4 }, context: appContext(app) });
    await screen.findByRole('heading', { name: 'Fish' });
    // its last images moved to Birds: the group is no longer listed
    client.listGroups.mockResolvedValue({ groups: [group(5, 'Birds', 11)], unsortedCount: 0, ungroupedCount: 0, unsortedThreshold: 0.6 });
    client.listGroupImages.mockResolvedValue({ items: [], total: 0 });
    app.versions.data++;
    await vi.waitFor(() => expect(app.navigation.route).toEqual({ name: 'groups' }));
    expect(screen.queryByText(/gone/i)).toBeNull();
    expect(app.notices.toasts.at(-1)?.text).toMatch(/^“Fish” is no longer there/);
  });
});

describe('defect 10: the smaller ones', () => {
  it('Split: the counts add up when an image from Unsorted joins a part', async () => {
    const client = organizerClient([group(1, 'Birds', 14)]);
    (client as unknown as { splitGroup: unknown }).splitGroup = vi.fn(async () => ({ ...H, groupIds: [1, 8, 9] }));
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    const done = groupActions(app).split({ id: 1, name: 'Birds', count: 14 });
    await screen.findByRole('dialog');
    client.listGroups.mockResolvedValue({
      groups: [group(1, 'Birds', 4), group(8, 'Birds (2)', 6), group(9, 'Birds (3)', 5)],
      unsortedCount: 0,
      ungroupedCount: 0,
      unsortedThreshold: 0.6,
    });
    const form = (globalThis as unknown as { document: { getElementById(id: string): { requestSubmit(): void } } }).document.getElementById(
      'dialog-form',
    );
    form.requestSubmit();
    await done;
    expect(app.notices.toasts.at(-1)?.text).toBe('Split “Birds” into 4, 6 and 5 images; 1 from Unsorted joined them');
  });

  it('Regroup shows its progress on the Groups screen and the cards cannot be edited meanwhile', async () => {
    const { default: Groups } = await import('../../renderer/screens/Groups.svelte');
    const client = organizerClient([group(1, 'Birds', 10)]);
    const app = createApp(client);
    app.session.job = {
      id: 'r',
      kind: 'recluster',
      status: 'running',
      phase: 'train',
      phases: [{ name: 'train', done: 3, total: 30, rate: null, etaSeconds: null }],
      startedAt: '',
    };
    const { container } = render(Groups, { context: appContext(app) });
    await screen.findByText('Birds');
    expect(screen.getByRole('region', { name: 'Regrouping' }).textContent).toContain('3 / 30 epochs');
    const grid = container.querySelector('.grid') as unknown as { inert: boolean; classList: { contains(t: string): boolean } };
    expect(grid.inert).toBe(true);
    expect(grid.classList.contains('busy')).toBe(true);
  });

  it('the map fits the bulk of its points, not a few far outliers', async () => {
    const { robustBounds } = await import('../../renderer/lib/spatial.js');
    const xy: number[] = [];
    for (let i = 0; i < 990; i++) xy.push(Math.cos(i) * 10, Math.sin(i * 1.3) * 10);
    for (let i = 0; i < 10; i++) xy.push(1000 + i, -1000 - i);
    const b = robustBounds(xy, 0.01);
    expect(b.maxX).toBeLessThan(20);
    expect(b.minY).toBeGreaterThan(-20);
  });
});
