// @vitest-environment jsdom
/**
 * Components rendered with a fake Client (no server): the Groups screen, the virtualized
 * group grid (row range, cell reuse, image loading held through a jump, keyboard reveal,
 * selection), the Image and Review screens' suggestions and desktop file actions, the
 * application menu's commands, and the thumbnail queue.
 * Compiled by the Svelte plugin of the root vitest.config.ts.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Client, Desktop, MenuCommand } from '../../core/shared/client.js';
import type { GroupSummary, HistoryState, ImageDetail, ImageSummary, JobState } from '../../core/shared/contract.js';
import { appContext, createApp, startApp } from '../../renderer/lib/state/app.js';
import { ImageQueue, READY } from '../../renderer/lib/imageQueue.js';
import { runMenuCommand } from '../../renderer/lib/menu.js';
import { cssColor } from '../../renderer/lib/spatial.js';
import App from '../../renderer/App.svelte';
import Groups from '../../renderer/screens/Groups.svelte';
import Group from '../../renderer/screens/Group.svelte';
import ImageView from '../../renderer/screens/ImageView.svelte';
import Review from '../../renderer/screens/Review.svelte';
import Libraries from '../../renderer/screens/Libraries.svelte';
import DialogHost from '../../renderer/components/DialogHost.svelte';
import Shortcuts from '../../renderer/components/Shortcuts.svelte';
import StatusBar from '../../renderer/components/StatusBar.svelte';
import { groupActions } from '../../renderer/lib/actions.js';

// jsdom has no ResizeObserver (bind:clientWidth and the virtualizer use it): sizes are read once.
(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

// The root tsconfig has no DOM lib (core/ must not lean on it): the DOM this file touches,
// structurally.
interface El {
  classList: { contains(token: string): boolean };
  firstElementChild: El | null;
  style: { height: string; transform: string };
  dataset: Record<string, string | undefined>;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  textContent: string | null;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  dispatchEvent(event: Event): boolean;
}
interface Img extends El {
  src: string;
  classList: { add(token: string): void; remove(token: string): void; contains(token: string): boolean };
  removeAttribute(name: string): void;
  decode(): Promise<void>;
}
const dom = globalThis as unknown as {
  HTMLElement: { prototype: object };
  Element: { prototype: { scrollTo: (this: El, options?: { top?: number } | number) => void } };
  document: { createElement(tag: 'img'): Img; readonly activeElement: unknown };
};

// jsdom has no layout and does not scroll: the grid's scroller gets a 1000 x 600 viewport, a
// scrollHeight from its content's height, and scrollTo() that moves it and fires 'scroll' as a
// browser does. Everything else keeps jsdom's zero sizes.
const VIEW = { clientWidth: 1000, clientHeight: 600 };
for (const [prop, value] of Object.entries(VIEW)) {
  Object.defineProperty(dom.HTMLElement.prototype, prop, {
    configurable: true,
    get(this: El) {
      return this.classList.contains('scroller') ? value : 0;
    },
  });
}
Object.defineProperty(dom.HTMLElement.prototype, 'scrollHeight', {
  configurable: true,
  get(this: El) {
    return this.classList.contains('scroller') ? parseFloat(this.firstElementChild?.style.height ?? '0') || 0 : 0;
  },
});
dom.Element.prototype.scrollTo = function (options) {
  const top = typeof options === 'object' ? (options.top ?? this.scrollTop) : 0;
  this.scrollTop = Math.max(0, Math.min(top, this.scrollHeight - this.clientHeight));
  this.dispatchEvent(new Event('scroll'));
};

// The grid's geometry in that viewport: (1000 - 2 x 16 padding + 6) / (150 + 6) columns.
const COLUMNS = 6;
const CELL = (1000 - 32 - 5 * 6) / COLUMNS;
const ROW = CELL + 6;

const H: HistoryState = { canUndo: true, canRedo: false, undoId: 1, undoLabel: 'x', redoLabel: null };
const job = (kind: JobState['kind']): JobState => ({
  id: `j-${kind}`,
  kind,
  status: 'running',
  phase: null,
  phases: [],
  startedAt: new Date(0).toISOString(),
});

function fakeClient(total = 50_000, desktop?: Desktop) {
  const groups: GroupSummary[] = [
    { id: 1, name: 'Birds', userNamed: true, color: 5, count: total, meanConfidence: 0.8, typicalImageIds: [1, 2, 3, 4] },
    { id: 2, name: 'Planets', userNamed: false, color: 0, count: 12, meanConfidence: 0.35, typicalImageIds: [5] },
    { id: 3, name: 'Boats', userNamed: false, color: 9, count: 9, meanConfidence: 0.6, typicalImageIds: [6] },
  ];
  const img = (i: number): ImageSummary => ({
    id: i + 1,
    name: `img${i + 1}.jpg`,
    groupId: 1,
    confidence: 0.5,
    pinned: false,
    width: 10,
    height: 10,
    takenAt: null,
  });
  const detail = (id: number): ImageDetail => ({
    ...img(id - 1),
    path: `/photos/img${id}.jpg`,
    size: 1,
    mtime: '',
    camera: null,
    groupName: 'Birds',
    neighbours: [],
    suggestions: [
      { groupId: 1, name: 'Birds', probability: 0.5 },
      { groupId: 2, name: 'Planets', probability: 0.3 },
      { groupId: 3, name: 'Boats', probability: 0.2 },
    ],
  });
  const c = {
    subscribe: () => () => {},
    thumbnailUrl: (id: number) => `thumb/${id}`,
    imageUrl: (id: number) => `image/${id}`,
    getStatus: vi.fn(async () => ({ version: 't', dbPath: 'x', backend: null, job: null, unsortedThreshold: 0.3, hasRun: true })),
    getHistory: vi.fn(async () => H),
    listGroups: vi.fn(async ({ search }: { search?: string }) => ({
      groups: groups.filter((g) => !search || g.name.toLowerCase().includes(search.toLowerCase())),
      unsortedCount: 7,
      unsortedThreshold: 0.3,
    })),
    listGroupImages: vi.fn(async ({ offset = 0, limit = 500 }: { offset?: number; limit?: number }) => ({
      items: Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => img(offset + k)),
      total,
    })),
    getImage: vi.fn(async ({ id }: { id: number }) => detail(id)),
    reviewQueue: vi.fn(async () => ({ items: [{ ...img(41), assignedGroupId: 1, suggestions: detail(42).suggestions }] })),
    removeFromGroup: vi.fn(async () => H),
    moveImages: vi.fn(async () => ({ ...H, groupId: 2 })),
    mergeGroups: vi.fn(async () => ({ ...H, groupId: 1 })),
    pinImages: vi.fn(async () => H),
    renameGroup: vi.fn(async () => H),
    undo: vi.fn(async () => ({ ...H, canUndo: false })),
    redo: vi.fn(async () => H),
    recluster: vi.fn(async () => job('recluster')),
    placeNewImages: vi.fn(async () => job('place-new')),
    addLibrary: vi.fn(async ({ path }: { path: string }) => ({ id: 1, path })),
    startClustering: vi.fn(async () => job('cluster')),
    listLibraries: vi.fn(async () => []),
    listSkipped: vi.fn(async () => ({ items: [], total: 0 })),
    listMissing: vi.fn(async () => ({
      items: [{ imageId: 9, path: '/photos/gone.jpg', missingSince: '2026-11-30T10:00:00.000Z' }],
      total: 1,
    })),
    ...(desktop ? { desktop } : {}),
  };
  return c as unknown as Client & typeof c;
}

function desktopDouble() {
  let menu: ((c: MenuCommand) => void) | null = null;
  const d = {
    platform: 'linux',
    pickFolder: vi.fn(async () => '/home/me/Pictures'),
    revealInFolder: vi.fn(async (_id: number) => {}),
    openWithDefaultApp: vi.fn(async (_id: number) => {}),
    onMenuCommand: vi.fn((listener: (c: MenuCommand) => void) => {
      menu = listener;
      return () => {
        menu = null;
      };
    }),
    menu: (c: MenuCommand) => menu?.(c),
  };
  return d;
}

const liveCells = (container: El) => [...container.querySelectorAll('.cell:not([hidden])')];
const indices = (cells: El[]) => cells.map((c) => Number(c.dataset['index'])).sort((a, b) => a - b);
async function scrollGrid(container: El, top: number) {
  const el = container.querySelector('.scroller')!;
  el.scrollTop = top;
  el.dispatchEvent(new Event('scroll'));
  await tick();
}

describe('Groups screen', () => {
  it('shows a card per group with count and confidence, the Unsorted bucket, and searches', async () => {
    const client = fakeClient();
    const app = createApp(client);
    render(Groups, { context: appContext(app) });
    await screen.findByText('Birds');
    expect(screen.getByText('50,000 images')).toBeTruthy();
    expect(screen.getByText('35% sure')).toBeTruthy();
    expect(screen.getByRole('link', { name: /^Unsorted/ }).textContent).toContain('7 images');
    await fireEvent.input(screen.getByLabelText('Search groups'), { target: { value: 'plan' } });
    await waitFor(() => expect(screen.queryByText('Birds')).toBeNull());
    expect(client.listGroups).toHaveBeenLastCalledWith({ sort: 'size', search: 'plan' });
  });

  it('a card opens through a link named by what it shows; its checkbox and buttons are beside the link, not inside', async () => {
    const client = fakeClient();
    const app = createApp(client);
    const { container } = render(Groups, { context: appContext(app) });
    await screen.findByText('Birds');
    const link = container.querySelector('.gcard[data-group-id="2"] a.open')!;
    expect(link.getAttribute('href')).toBe('#/group/2');
    expect(link.hasAttribute('aria-label')).toBe(false); // its name is its text: all of what it shows
    expect(link.textContent!.replace(/\s+/g, ' ').trim()).toBe('Planets 12 images 35% sure');
    // No control inside another (axe's nested-interactive): a screen reader reaches each.
    const controls = [...container.querySelectorAll('a[href], button, input, select, [role="button"], [tabindex]:not([tabindex="-1"])')];
    const nested = controls.filter((outer) => controls.some((inner) => inner !== outer && outer.contains(inner)));
    expect(nested.map((e) => e.getAttribute('class'))).toEqual([]);
    await fireEvent.click(link);
    expect(app.navigation.route).toEqual({ name: 'group', id: 2 });
  });

  it('merges the picked groups through the dialog', async () => {
    const client = fakeClient();
    const app = createApp(client);
    render(Groups, { context: appContext(app) });
    await fireEvent.click(await screen.findByLabelText('Select Birds'));
    await fireEvent.click(screen.getByLabelText('Select Planets'));
    await fireEvent.click(screen.getByRole('button', { name: 'Merge' }));
    await waitFor(() => expect(app.dialogs.dialog?.title).toBe('Merge 2 groups'));
    app.dialogs.dialog!.resolve({ name: 'Sky' });
    await waitFor(() => expect(client.mergeGroups).toHaveBeenCalledWith({ groupIds: [1, 2], name: 'Sky' }));
    expect(app.notices.toasts.at(-1)?.text).toBe('Merged 2 groups');
  });
});

describe('Group screen (virtualized grid)', () => {
  it('renders the visible rows plus overscan for 50,000 images, and pages data in', async () => {
    const client = fakeClient(50_000);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    // the first file of the run on two busy cores: the first render may take over waitFor's 1 s
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(0), { timeout: 5000 });
    // Rows 0-3 intersect the 600 px viewport; two more below.
    expect(indices(liveCells(container))).toEqual(Array.from({ length: 6 * COLUMNS }, (_, i) => i));
    expect(container.querySelectorAll('.cell').length).toBeLessThan(100);
    const sizer = container.querySelector('.sizer')!;
    expect(parseFloat(sizer.style.height)).toBeCloseTo(32 + Math.ceil(50_000 / COLUMNS) * ROW - 6, 0);
    const fetched = client.listGroupImages.mock.calls.reduce((a, [i]) => a + (i.limit ?? 0), 0);
    expect(fetched).toBeLessThan(2000);
  });

  it('scrolling reuses the same cell nodes for the new rows, placed by the virtualizer', async () => {
    const client = fakeClient(50_000);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(0));
    const before = new Set(container.querySelectorAll('.cell'));
    // Row by row, as a wheel does (no jump): 100 rows down.
    for (let row = 1; row <= 100; row++) await scrollGrid(container, 16 + row * ROW + 1);
    await waitFor(() => expect(indices(liveCells(container))[0]).toBe(98 * COLUMNS));
    expect(indices(liveCells(container)).at(-1)).toBe(106 * COLUMNS - 1);
    expect(new Set(container.querySelectorAll('.cell'))).toEqual(before);
    const cell = container.querySelector(`.cell[data-index="${100 * COLUMNS + 2}"]`)!;
    const [x, y] = cell.style.transform.match(/[\d.]+/g)!.map(Number);
    expect(x).toBeCloseTo(16 + 2 * ROW);
    expect(y).toBeCloseTo(16 + 100 * ROW);
    await waitFor(() => expect(cell.querySelector('img')!.getAttribute('src')).toBe(`thumb/${100 * COLUMNS + 3}`));
  });

  it('a jump shows placeholders and fetches nothing until the scroll settles', async () => {
    const client = fakeClient(50_000);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBe(liveCells(container).length));
    const calls = client.listGroupImages.mock.calls.length;
    await scrollGrid(container, 16 + 5000 * ROW + 1);
    const cells = liveCells(container);
    expect(indices(cells)[0]).toBe(4998 * COLUMNS);
    expect(container.querySelector('.scroller')!.getAttribute('aria-busy')).toBe('true');
    // No image of the rows it jumped from or to, and no page fetched for them (an unheld
    // grid would have asked for it in this same update).
    expect(cells.filter((c) => c.querySelector('img')!.hasAttribute('src'))).toEqual([]);
    expect(client.listGroupImages.mock.calls.length).toBe(calls);
    // Settled (100 ms without another jump): the page, then the thumbnails.
    await waitFor(() => expect(container.querySelector('.scroller')!.getAttribute('aria-busy')).toBe('false'));
    await waitFor(() =>
      expect(container.querySelector(`.cell[data-index="${5000 * COLUMNS}"] img`)!.getAttribute('src')).toBe(`thumb/${5000 * COLUMNS + 1}`),
    );
    expect(
      client.listGroupImages.mock.calls
        .slice(calls)
        .some(([i]) => (i.offset ?? 0) <= 5000 * COLUMNS && 5000 * COLUMNS < (i.offset ?? 0) + (i.limit ?? 0)),
    ).toBe(true);
  });

  it('a group merged away (say in another window) goes back to the groups with a note, offering no actions on it', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(liveCells(container).length).toBeGreaterThan(0));
    await fireEvent.click(liveCells(container)[0]!);
    expect(screen.getByRole('toolbar', { name: 'Selection' })).toBeTruthy();
    client.listGroupImages.mockRejectedValue(Object.assign(new Error('group 1 not found'), { code: 'not-found' }));
    app.versions.data++;
    await waitFor(() => expect(app.navigation.route).toEqual({ name: 'groups' }));
    expect(app.notices.toasts.at(-1)?.text).toMatch(/^“Birds” is no longer there: its images were moved to other groups, or it was merged/);
    expect(screen.queryByText(/group 1 not found/)).toBeNull();
    expect(screen.queryByRole('toolbar', { name: 'Selection' })).toBeNull();
  });

  it('End and Home move the cursor and scroll it into view', async () => {
    const client = fakeClient(1000);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(0));
    // The first key only places the cursor (on the first image).
    app.keys.handler!({ kind: 'end' });
    app.keys.handler!({ kind: 'end' });
    await waitFor(() => expect(container.querySelector('.cell[data-index="999"]:not([hidden])')).toBeTruthy());
    const el = container.querySelector('.scroller')!;
    expect(el.scrollTop).toBeCloseTo(el.scrollHeight - 600, 0);
    expect(container.querySelector('.cell.focus')!.getAttribute('data-index')).toBe('999');
    // Up a row: already in view, no scroll.
    const at = el.scrollTop;
    app.keys.handler!({ kind: 'move', dx: 0, dy: -1, extend: false });
    await tick();
    expect(el.scrollTop).toBe(at);
    app.keys.handler!({ kind: 'home' });
    await waitFor(() => expect(el.scrollTop).toBe(0));
    await waitFor(() => expect(container.querySelector('.cell.focus')!.getAttribute('data-index')).toBe('0'));
  });

  it('keyboard: arrows select, shift extends, Delete removes the selection from the group', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(0));
    expect(app.keys.handler).toBeTruthy();
    app.keys.handler!({ kind: 'move', dx: 1, dy: 0, extend: false });
    app.keys.handler!({ kind: 'move', dx: 1, dy: 0, extend: true });
    app.keys.handler!({ kind: 'move', dx: 1, dy: 0, extend: true });
    await screen.findByText('3 selected');
    const fetched = client.listGroupImages.mock.calls.length;
    app.keys.handler!({ kind: 'remove' });
    await waitFor(() => expect(client.removeFromGroup).toHaveBeenCalledWith({ imageIds: [1, 2, 3] }));
    // The edit dropped the loaded pages: the grid fetches the ones in view again and shows them.
    await waitFor(() => expect(client.listGroupImages.mock.calls.slice(fetched).some(([i]) => i.offset === 0 && i.limit !== 1)).toBe(true));
    await waitFor(() => expect(container.querySelector('.cell[data-index="0"]')!.getAttribute('data-image-id')).toBe('1'));
    await app.edits.undo();
    expect(client.undo).toHaveBeenCalled();
  });

  it('Ctrl-click toggles and shift-click selects a range; a row down is a row of the grid', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(3));
    await fireEvent.click(container.querySelector('.cell[data-index="0"]')!);
    await fireEvent.click(container.querySelector('.cell[data-index="3"]')!, { shiftKey: true });
    await fireEvent.click(container.querySelector('.cell[data-index="2"]')!, { ctrlKey: true });
    await screen.findByText('3 selected');
    expect([...container.querySelectorAll('.cell[aria-selected="true"]')].map((e) => e.getAttribute('data-index'))).toEqual([
      '0',
      '1',
      '3',
    ]);
    app.keys.handler!({ kind: 'move', dx: 0, dy: 1, extend: false });
    await tick();
    expect(container.querySelector('.cell.focus')!.getAttribute('data-index')).toBe(String(2 + COLUMNS));
  });

  it('sends the selection to a suggested group, and offers the desktop file actions for one image', async () => {
    const desktop = desktopDouble();
    const client = fakeClient(100, desktop);
    const app = createApp(client);
    await app.colours.refresh(); // numbers the groups: Birds 1, Planets 2, Boats 3 (largest first)
    const { container } = render(Group, { props: { groupId: 1 }, context: appContext(app) });
    await waitFor(() => expect(container.querySelectorAll('.cell img[src]').length).toBeGreaterThan(3));
    await fireEvent.click(container.querySelector('.cell[data-index="4"]')!);
    const bar = await screen.findByRole('toolbar', { name: 'Selection' });
    await fireEvent.click(await screen.findByRole('button', { name: 'Show in folder' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    expect(desktop.revealInFolder).toHaveBeenCalledWith(5);
    expect(desktop.openWithDefaultApp).toHaveBeenCalledWith(5);
    // Two selected: no single file to show.
    await fireEvent.click(container.querySelector('.cell[data-index="5"]')!, { ctrlKey: true });
    await screen.findByText('2 selected');
    expect(bar.textContent).not.toContain('Show in folder');
    // Its own group is not a suggestion; each button shows its group's number, Boats 3.
    const sugs = await screen.findByRole('group', { name: 'Send to:' });
    expect(sugs.textContent).not.toContain('Birds');
    await fireEvent.click(screen.getByRole('button', { name: /3\s*Boats/ }));
    await waitFor(() => expect(client.moveImages).toHaveBeenCalledWith({ imageIds: [5, 6], to: { groupId: 3 } }));
  });
});

describe('Libraries screen', () => {
  it('once there are groups, an added folder and Place new images place new images in them instead of regrouping', async () => {
    const client = fakeClient();
    client.listLibraries.mockResolvedValue([
      { id: 1, path: '/photos', addedAt: '', imageCount: 10, skippedCount: 0, missingCount: 0 },
    ] as never);
    const app = createApp(client);
    const stopApp = startApp(app);
    render(Libraries, { context: appContext(app) });
    await waitFor(() => expect(app.session.status?.hasRun).toBe(true));
    // the files gone from the folders are listed, not only counted
    expect((await screen.findByText('1 image missing')).closest('details')?.textContent).toContain('/photos/gone.jpg');
    await fireEvent.input(screen.getByLabelText('Folder path'), { target: { value: '/more' } });
    await fireEvent.click(await screen.findByRole('button', { name: 'Add' }));
    await waitFor(() => expect(client.placeNewImages).toHaveBeenCalledTimes(1));
    expect(client.addLibrary).toHaveBeenCalledWith({ path: '/more' });
    app.session.job = null;
    await fireEvent.click(await screen.findByRole('button', { name: 'Place new images' }));
    await waitFor(() => expect(client.placeNewImages).toHaveBeenCalledTimes(2));
    expect(client.startClustering).not.toHaveBeenCalled();
    // reshaping the groups is Regroup…, which asks first
    await fireEvent.click(screen.getByRole('button', { name: 'Regroup…' }));
    await waitFor(() => expect(app.dialogs.dialog?.title).toBe('Regroup everything'));
    app.dialogs.dialog!.resolve(null);
    stopApp();
  });
});

describe('removing a library', () => {
  it('says what is lost, more when it is the only library, and that Undo will not bring it back', async () => {
    const client = fakeClient();
    const lib = (id: number, path: string) => ({ id, path, addedAt: '', imageCount: 10, skippedCount: 0, missingCount: 0 });
    client.listLibraries.mockResolvedValue([lib(1, '/photos')] as never);
    const app = createApp(client);
    const stopApp = startApp(app);
    const { unmount } = render(Libraries, { context: appContext(app) });
    await fireEvent.click(await screen.findByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(app.dialogs.dialog?.title).toBe('Remove library?'));
    expect(app.dialogs.dialog!.body).toMatch(/only library: the groups, their names and all your edits are forgotten/);
    expect(app.dialogs.dialog!.body).toMatch(/cannot be undone/);
    app.dialogs.dialog!.resolve(null);
    unmount();
    client.listLibraries.mockResolvedValue([lib(1, '/photos'), lib(2, '/more')] as never);
    render(Libraries, { context: appContext(app) });
    await fireEvent.click((await screen.findAllByRole('button', { name: 'Remove' }))[1]!);
    await waitFor(() => expect(app.dialogs.dialog?.title).toBe('Remove library?'));
    expect(app.dialogs.dialog!.body).toMatch(/Forget \/more\?.*the other libraries keep theirs/);
    app.dialogs.dialog!.resolve(null);
    stopApp();
  });
});

describe('dialogs that do their work', () => {
  it('a refused rename stays open with the reason and what was typed; a good one closes', async () => {
    const client = fakeClient();
    client.renameGroup.mockRejectedValueOnce(new Error('A group is already called “Planets”: to put them together, select both and Merge'));
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    const done = groupActions(app).rename({ id: 1, name: 'Birds' });
    const field = await screen.findByRole('textbox');
    await fireEvent.input(field, { target: { value: 'planets' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'A group is already called “Planets”: to put them together, select both and Merge',
    );
    expect((screen.getByRole('textbox') as unknown as { value: string }).value).toBe('planets');
    expect(app.notices.toasts).toEqual([]); // in the dialog, not a toast behind it
    await fireEvent.input(field, { target: { value: '   ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('A group needs a name'));
    expect(client.renameGroup).toHaveBeenCalledTimes(1);
    await fireEvent.input(field, { target: { value: 'Sky' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    expect(await done).toEqual(H);
    expect(client.renameGroup).toHaveBeenLastCalledWith({ groupId: 1, name: 'Sky' });
    expect(app.dialogs.dialog).toBeNull();
    expect(app.notices.toasts.at(-1)?.text).toBe('Renamed to “Sky”');
  });
});

describe('job notifications', () => {
  it('name the job that failed or was cancelled (placing new images is not "Clustering")', () => {
    const app = createApp(fakeClient());
    for (const [status, text] of [
      ['failed', 'Place new images failed: disk gone'],
      ['cancelled', 'Place new images cancelled'],
    ] as const) {
      app.session.onEvent({ type: 'job', job: job('place-new') });
      app.session.onEvent({ type: 'job', job: { ...job('place-new'), status, ...(status === 'failed' ? { error: 'disk gone' } : {}) } });
      expect(app.notices.toasts.at(-1)?.text).toBe(text);
    }
  });
});

describe('Image screen', () => {
  const route = { name: 'image' as const, id: 7, group: 1, sort: 'confidence-desc' as const, index: 6 };

  it('lists the other groups to send to (buttons and 1-9 keys alike)', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    await app.colours.refresh(); // Birds 1, Planets 2, Boats 3
    render(ImageView, { props: { route }, context: appContext(app) });
    const sugs = await screen.findByRole('group', { name: 'Or send to' });
    expect([...sugs.querySelectorAll('button')].map((b) => b.textContent?.replace(/\s+/g, ''))).toEqual(['2Planets30%', '3Boats20%']);
    await fireEvent.click(screen.getByRole('button', { name: /2\s*Planets/ }));
    await waitFor(() => expect(client.moveImages).toHaveBeenLastCalledWith({ imageIds: [7], to: { groupId: 2 } }));
    app.keys.handler!({ kind: 'send', n: 3 });
    await waitFor(() => expect(client.moveImages).toHaveBeenLastCalledWith({ imageIds: [7], to: { groupId: 3 } }));
  });

  it('colours every swatch by the colour slot of its group, as the map does, not by its id', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    const stopApp = startApp(app);
    render(ImageView, { props: { route }, context: appContext(app) });
    const sugs = await screen.findByRole('group', { name: 'Or send to' });
    const rgb = (css: string | null) => css?.match(/\d+/g)?.join(','); // jsdom respells the colour
    const swatches = () => [...sugs.querySelectorAll('.swatch')].map((e) => rgb(e.getAttribute('style')));
    await waitFor(() => expect(swatches()).toEqual([rgb(cssColor(0)), rgb(cssColor(9))]));
    expect(cssColor(0)).not.toBe(cssColor(2)); // Planets' id is 2
    stopApp();
  });

  it('has Show in folder and Open only where the client offers them', async () => {
    const app = createApp(fakeClient(100));
    const browser = render(ImageView, { props: { route }, context: appContext(app) });
    await screen.findByText('/photos/img7.jpg');
    expect(screen.queryByRole('button', { name: 'Show in folder' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Open' })).toBeNull();
    browser.unmount();

    const desktop = { ...desktopDouble(), platform: 'darwin' };
    desktop.openWithDefaultApp.mockRejectedValueOnce(new Error('No app for .jpg'));
    const app2 = createApp(fakeClient(100, desktop));
    render(ImageView, { props: { route }, context: appContext(app2) });
    await fireEvent.click(await screen.findByRole('button', { name: 'Show in Finder' }));
    expect(desktop.revealInFolder).toHaveBeenCalledWith(7);
    await fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    expect(desktop.openWithDefaultApp).toHaveBeenCalledWith(7);
    await waitFor(() => expect(app2.notices.toasts.at(-1)).toMatchObject({ kind: 'error', text: 'No app for .jpg' }));
  });
});

describe('Review screen', () => {
  it('sends the image to a suggested group with the shared list', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    render(Review, { context: appContext(app) });
    const sugs = await screen.findByRole('group', { name: 'or send to' });
    expect(sugs.textContent).toContain('Planets');
    expect(sugs.textContent).not.toContain('Birds');
    await fireEvent.click(screen.getByRole('button', { name: /Boats/ }));
    await waitFor(() => expect(client.moveImages).toHaveBeenCalledWith({ imageIds: [42], to: { groupId: 3 } }));
  });

  it('offers no move to Unsorted for an image already in Unsorted (nor does Delete)', async () => {
    const client = fakeClient(100);
    const suggestions = [
      { groupId: 1, name: 'Birds', probability: 0.2 },
      { groupId: 2, name: 'Planets', probability: 0.1 },
    ];
    const image = { id: 42, name: 'img42.jpg', confidence: 0.2, pinned: false, width: 10, height: 10, takenAt: null, suggestions };
    // below the threshold: shown in Unsorted, its best guess Birds
    client.reviewQueue.mockResolvedValue({ items: [{ ...image, groupId: null, assignedGroupId: 1 }] } as never);
    const app = createApp(client);
    const view = render(Review, { context: appContext(app) });
    await screen.findByRole('button', { name: /Put it in “Birds” \(pin\)/ });
    expect(screen.queryByRole('button', { name: /Unsorted/ })).toBeNull();
    app.keys.handler!({ kind: 'remove' });
    await tick();
    expect(client.removeFromGroup).not.toHaveBeenCalled();
    view.unmount();
    // in its group, it is offered
    client.reviewQueue.mockResolvedValue({ items: [{ ...image, groupId: 1, assignedGroupId: 1 }] } as never);
    render(Review, { context: appContext(app) });
    await fireEvent.click(await screen.findByRole('button', { name: /Del\s*Unsorted/ }));
    await waitFor(() => expect(client.removeFromGroup).toHaveBeenCalledWith({ imageIds: [42] }));
  });
});

describe('“Move to…”', () => {
  const suggestions = [
    { groupId: 3, name: 'Boats', probability: 0.4 },
    { groupId: 2, name: 'Planets', probability: 0.3 },
  ];
  // The groups are a list of radios, each with its picture (issue 21: Move to… shows thumbnails).
  const select = () => ({
    value: (screen.getAllByRole('radio') as unknown as Array<{ checked: boolean; value: string }>).find((r) => r.checked)?.value,
  });
  const choose = (value: string) =>
    fireEvent.click(screen.getAllByRole('radio').find((r) => (r as unknown as { value: string }).value === value)!);

  it('starts on the top suggestion, which needs no name', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    const done = groupActions(app).moveTo([5, 6], 1, suggestions);
    await screen.findByRole('dialog', { name: 'Move 2 images' });
    expect(select().value).toBe('3');
    expect(screen.queryByRole('textbox')).toBeNull();
    expect(screen.getByRole('radio', { name: /Boats\s*9 images · suggested/ })).toBeTruthy();
    expect(screen.getByRole('radiogroup').querySelector('[data-value="3"] img')!.getAttribute('src')).toBe('thumb/6');
    await fireEvent.click(screen.getByRole('button', { name: 'Move' }));
    await done;
    expect(client.moveImages).toHaveBeenCalledWith({ imageIds: [5, 6], to: { groupId: 3 } });
    expect(app.notices.toasts.at(-1)?.text).toBe('Moved 2 images to “Boats”');
  });

  it('without suggestions at hand, starts on the first image’s own top suggestion (the Map)', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).moveTo([7]);
    await screen.findByRole('dialog', { name: 'Move 1 image' });
    expect(client.getImage).toHaveBeenCalledWith({ id: 7 });
    expect(select().value).toBe('2'); // Planets: its best other than Birds, where it is
    app.dialogs.dialog!.resolve(null);
  });

  it('a new group named like an existing one (in other letters) moves the images to that group, not an error', async () => {
    const client = fakeClient(100);
    // as the core answers a second "Planets"
    client.moveImages.mockImplementation((async ({ to }: { to: { newGroupName?: string } }) => {
      if (to.newGroupName) throw new Error('A group is already called “Planets”: choose it in the list to move the images there');
      return { ...H, groupId: 2 };
    }) as never);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    const done = groupActions(app).moveTo([5], 1, suggestions);
    await screen.findByRole('dialog', { name: 'Move 1 image' });
    await choose('__new');
    await fireEvent.input(await screen.findByRole('textbox'), { target: { value: ' planets ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Move' }));
    await done;
    expect(client.moveImages).toHaveBeenCalledExactlyOnceWith({ imageIds: [5], to: { groupId: 2 } });
    expect(app.dialogs.dialog).toBeNull();
    expect(app.notices.toasts.map((t) => t.text)).toEqual(['Moved 1 image to “Planets”']);
  });

  it('the name of the group the images are in says so in the dialog', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).moveTo([5], 1, suggestions);
    await screen.findByRole('dialog', { name: 'Move 1 image' });
    await choose('__new');
    await fireEvent.input(await screen.findByRole('textbox'), { target: { value: 'BIRDS' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Move' }));
    expect((await screen.findByRole('alert')).textContent).toBe('It is already in “Birds”: choose another group');
    expect(client.moveImages).not.toHaveBeenCalled();
    app.dialogs.dialog!.resolve(null);
  });
});

describe('status bar', () => {
  const phases = (embedDone: number): JobState['phases'] => [
    { name: 'scan', done: 10, total: 10, rate: null, etaSeconds: null },
    { name: 'embed', done: embedDone, total: 100, rate: null, etaSeconds: null },
  ];
  it('says what the model is doing while a job runs with no backend known yet, then names it', async () => {
    const app = createApp(fakeClient());
    app.session.status = { version: 't', dbPath: '/x.db', backend: null, job: null, unsortedThreshold: 0.3, hasRun: false };
    render(StatusBar, { context: appContext(app) });
    expect(screen.getByText('model not loaded yet')).toBeTruthy();
    app.session.job = { ...job('cluster'), phase: 'embed', phases: phases(0) };
    await tick();
    expect(screen.getByText('loading the model…')).toBeTruthy();
    app.session.job = { ...job('cluster'), phase: 'embed', phases: phases(27) };
    await tick();
    expect(screen.getByText('model running')).toBeTruthy();
    expect(screen.getByRole('link').textContent?.trim()).toBe('Decoding and embedding 27%');
    expect(screen.queryByText(/not loaded/)).toBeNull();
    // done: the run's summary names the backend, before the status is read again
    const summary = {
      runId: 1,
      images: 10,
      skipped: {},
      groups: [],
      unsorted: 0,
      secondsByPhase: {},
      backend: { choice: 'tfjs-node', device: 'cpu' },
      k: 2,
      kChosenBy: 'auto' as const,
    };
    app.session.job = { ...job('cluster'), status: 'done', phases: phases(100), summary };
    await tick();
    expect(screen.getByText('Model on the CPU')).toBeTruthy();
  });
});

describe('help', () => {
  it('says what a group, “NN% sure”, Unsorted and the Map are, then lists the keys', async () => {
    render(Shortcuts, { props: { onclose: () => {} } });
    const dialog = screen.getByRole('dialog', { name: 'Help' });
    const text = dialog.textContent!.replace(/\s+/g, ' ');
    expect(screen.getByRole('heading', { name: 'What you are looking at' })).toBeTruthy();
    expect(text).toContain('A group Images that look alike.');
    expect(text).toMatch(
      /“62% sure” How likely Constellate thinks it is that an image is in the right group: of the images it calls 62% sure, about 62 in 100 were/,
    );
    expect(text).toMatch(/Unsorted Images Constellate is not sure enough about: their confidence is below the “Unsorted below” threshold/);
    expect(text).toMatch(/The Map .*similar images sit near each other.*The colour is the image's group/);
    expect(screen.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeTruthy();
    expect(text).toContain('Select all');
  });
});

describe('application menu commands', () => {
  it('reach the page through the client and do what its buttons and keys do', async () => {
    const desktop = desktopDouble();
    const client = fakeClient(100, desktop);
    const app = createApp(client);
    const stopApp = startApp(app);
    await waitFor(() => expect(app.session.status?.hasRun).toBe(true));
    await waitFor(() => expect(app.edits.history.canUndo).toBe(true));
    render(App, { context: appContext(app) });
    expect(desktop.onMenuCommand).toHaveBeenCalledOnce();

    desktop.menu('shortcuts');
    await screen.findByRole('dialog', { name: 'Help' });
    app.dialogs.showHelp = false;

    desktop.menu('undo');
    await waitFor(() => expect(client.undo).toHaveBeenCalledOnce());
    await waitFor(() => expect(app.notices.toasts.at(-1)?.text).toBe('Undid x'));

    desktop.menu('export');
    await screen.findByRole('dialog', { name: 'Export groups' });
    app.dialogs.showExport = false;

    app.navigation.go({ name: 'review' });
    desktop.menu('find');
    const search = await screen.findByLabelText('Search groups');
    await waitFor(() => expect(dom.document.activeElement).toBe(search));
    expect(app.dialogs.focusSearch).toBe(false);

    desktop.menu('regroup');
    await waitFor(() => expect(app.dialogs.dialog?.title).toBe('Regroup everything'));
    expect(app.dialogs.dialog!.fields[0]).toMatchObject({ name: 'groups', value: 3 });
    app.dialogs.dialog!.resolve({ groups: '4' });
    await waitFor(() => expect(client.recluster).toHaveBeenCalledWith({ groups: 4 }));

    desktop.menu('add-folder');
    await waitFor(() => expect(client.addLibrary).toHaveBeenCalledWith({ path: '/home/me/Pictures' }));
    // there are groups: the folder's images are placed in them, the groups are not remade
    await waitFor(() => expect(client.placeNewImages).toHaveBeenCalledWith({}));
    expect(client.startClustering).not.toHaveBeenCalled();
    expect(app.navigation.route.name).toBe('libraries');
    stopApp();
  });

  it('wait while a dialog is open, and say why when there is nothing to act on', async () => {
    const client = fakeClient(100);
    const app = createApp(client);
    const answer = app.dialogs.confirm('Remove library?', 'x');
    await runMenuCommand(app, 'undo');
    expect(client.undo).not.toHaveBeenCalled();
    app.dialogs.dialog!.resolve(null);
    await answer;
    await runMenuCommand(app, 'export');
    expect(app.dialogs.showExport).toBe(false);
    expect(app.notices.toasts.at(-1)?.text).toMatch(/Nothing to export yet/);
  });
});

describe('ImageQueue (thumbnails)', () => {
  // jsdom has no HTMLImageElement.decode(): each image gets one that resolves when told to.
  function image() {
    const img = dom.document.createElement('img');
    let done: ((ok: boolean) => void) | null = null;
    img.decode = () => new Promise<void>((resolve, reject) => (done = (ok) => (ok ? resolve() : reject(new Error('EncodingError')))));
    return { img, decoded: (ok = true) => done?.(ok) };
  }
  const frame = () => new Promise((r) => setTimeout(r, 40));
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('loads at most `concurrency` at a time, nearest the focus first, shown only once decoded', async () => {
    const q = new ImageQueue(2);
    q.focus = 3;
    const imgs = Array.from({ length: 6 }, () => image());
    imgs.forEach((x, i) => q.load(x.img, { src: `t/${i}`, index: i }));
    expect(imgs.map((x) => x.img.getAttribute('src'))).toEqual([null, null, null, null, null, null]);
    await frame();
    expect(imgs.map((x) => x.img.getAttribute('src'))).toEqual([null, null, null, 't/3', 't/4', null]);
    expect(imgs[3]!.img.classList.contains(READY)).toBe(false);
    imgs[3]!.decoded();
    await flush();
    expect(imgs[3]!.img.classList.contains(READY)).toBe(true);
    await frame();
    expect(imgs[5]!.img.getAttribute('src')).toBe('t/5');
    expect([q.loading, q.pending]).toEqual([2, 3]);
    // A failed decode (a missing file) keeps the placeholder and frees the slot, which goes
    // to the rows above the focus, nearest first.
    imgs[4]!.decoded(false);
    await flush();
    await frame();
    expect(imgs[4]!.img.classList.contains(READY)).toBe(false);
    expect(imgs.map((x) => x.img.getAttribute('src'))).toEqual([null, null, 't/2', 't/3', 't/4', 't/5']);
  });

  it('a recycled cell drops its old image at once; a late decode of it is ignored', async () => {
    const q = new ImageQueue(4);
    const a = image();
    const action = q.load(a.img, { src: 't/a', index: 0 });
    await frame();
    expect(a.img.getAttribute('src')).toBe('t/a');
    action.update({ src: 't/b', index: 0 });
    expect(a.img.hasAttribute('src')).toBe(false);
    a.decoded(); // the decode of t/a, not of t/b
    await flush();
    expect(a.img.classList.contains(READY)).toBe(false);
    await frame();
    expect(a.img.getAttribute('src')).toBe('t/b');
    a.decoded();
    await flush();
    expect(a.img.classList.contains(READY)).toBe(true);
    // The same image again: nothing reloads.
    action.update({ src: 't/b', index: 5 });
    expect(a.img.classList.contains(READY)).toBe(true);
    action.update({ src: null, index: 5 });
    expect([a.img.hasAttribute('src'), a.img.classList.contains(READY)]).toEqual([false, false]);
  });

  it('starts nothing while held; a cell that changed meanwhile never fetches its old image', async () => {
    const q = new ImageQueue(4);
    q.hold(true);
    const a = image();
    const b = image();
    const action = q.load(a.img, { src: 't/old', index: 0 });
    q.load(b.img, { src: 't/b', index: 1 });
    await frame();
    expect([a.img.hasAttribute('src'), b.img.hasAttribute('src')]).toEqual([false, false]);
    action.update({ src: 't/new', index: 0 });
    q.hold(false);
    await frame();
    expect([a.img.getAttribute('src'), b.img.getAttribute('src')]).toEqual(['t/new', 't/b']);
    expect(q.pending).toBe(0);
  });
});
