// @vitest-environment jsdom
/**
 * Components rendered with a fake Client (no server): the Groups screen, the virtualized
 * group grid with keyboard selection, and the shared undo flow.
 * Compiled by the Svelte plugin of the root vitest.config.ts.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../../core/api/client.js';
import type { GroupSummary, HistoryState, ImageSummary } from '../../core/api/contract.js';
import { AppState } from '../../renderer/lib/app.svelte.js';
import Groups from '../../renderer/screens/Groups.svelte';
import Group from '../../renderer/screens/Group.svelte';

// jsdom has no ResizeObserver (bind:clientWidth uses it): the grid keeps its default size.
(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

const H: HistoryState = { canUndo: true, canRedo: false, undoLabel: 'x', redoLabel: null };

function fakeClient(total = 50_000) {
  const groups: GroupSummary[] = [
    { id: 1, name: 'Birds', userNamed: true, count: total, meanConfidence: 0.8, typicalImageIds: [1, 2, 3, 4] },
    { id: 2, name: 'Planets', userNamed: false, count: 12, meanConfidence: 0.35, typicalImageIds: [5] },
  ];
  const img = (i: number): ImageSummary => ({ id: i + 1, name: `img${i + 1}.jpg`, groupId: 1, confidence: 0.5, pinned: false, width: 10, height: 10, takenAt: null });
  const c = {
    subscribe: () => () => {},
    thumbnailUrl: (id: number) => `thumb/${id}`,
    imageUrl: (id: number) => `image/${id}`,
    getStatus: vi.fn(async () => ({ version: 't', dbPath: 'x', backend: null, job: null, unsortedThreshold: 0.3, hasRun: true })),
    getHistory: vi.fn(async () => H),
    listGroups: vi.fn(async ({ search }: { search?: string }) => ({ groups: groups.filter((g) => !search || g.name.toLowerCase().includes(search.toLowerCase())), unsortedCount: 7, unsortedThreshold: 0.3 })),
    listGroupImages: vi.fn(async ({ offset = 0, limit = 500 }: { offset?: number; limit?: number }) => ({
      items: Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => img(offset + k)),
      total,
    })),
    getImage: vi.fn(async ({ id }: { id: number }) => ({ ...img(id - 1), path: '/x', size: 1, mtime: '', camera: null, groupName: 'Birds', neighbours: [], suggestions: [{ groupId: 2, name: 'Planets', probability: 0.4 }] })),
    removeFromGroup: vi.fn(async () => H),
    moveImages: vi.fn(async () => ({ ...H, groupId: 2 })),
    mergeGroups: vi.fn(async () => ({ ...H, groupId: 1 })),
    undo: vi.fn(async () => ({ ...H, canUndo: false })),
  };
  return c as unknown as Client & typeof c;
}

describe('Groups screen', () => {
  it('shows a card per group with count and confidence, the Unsorted bucket, and searches', async () => {
    const client = fakeClient();
    const app = new AppState(client);
    render(Groups, { props: { app } });
    await screen.findByText('Birds');
    expect(screen.getByText('50,000 images')).toBeTruthy();
    expect(screen.getByText('35% sure')).toBeTruthy();
    expect(screen.getByLabelText('Unsorted, 7 images')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Search groups'), { target: { value: 'plan' } });
    await waitFor(() => expect(screen.queryByText('Birds')).toBeNull());
    expect(client.listGroups).toHaveBeenLastCalledWith({ sort: 'size', search: 'plan' });
  });

  it('merges the picked groups through the dialog', async () => {
    const client = fakeClient();
    const app = new AppState(client);
    render(Groups, { props: { app } });
    await fireEvent.click(await screen.findByLabelText('Select Birds'));
    await fireEvent.click(screen.getByLabelText('Select Planets'));
    await fireEvent.click(screen.getByRole('button', { name: 'Merge' }));
    await waitFor(() => expect(app.dialog?.title).toBe('Merge 2 groups'));
    app.dialog!.resolve({ name: 'Sky' });
    await waitFor(() => expect(client.mergeGroups).toHaveBeenCalledWith({ groupIds: [1, 2], name: 'Sky' }));
    expect(app.toasts.at(-1)?.text).toBe('Merged 2 groups');
  });
});

describe('Group screen (virtualized grid)', () => {
  it('renders a bounded number of cells for 50,000 images and pages data in', async () => {
    const client = fakeClient(50_000);
    const app = new AppState(client);
    const { container } = render(Group, { props: { app, groupId: 1 } });
    await waitFor(() => expect(container.querySelectorAll('.cell img').length).toBeGreaterThan(0));
    const cells = container.querySelectorAll('.cell').length;
    expect(cells).toBeGreaterThan(0);
    expect(cells).toBeLessThan(400);
    // Only the first page(s) were fetched, not 50,000 items.
    const fetched = client.listGroupImages.mock.calls.reduce((a, [i]) => a + (i.limit ?? 0), 0);
    expect(fetched).toBeLessThan(2000);
  });

  it('keyboard: arrows select, shift extends, Delete removes the selection from the group', async () => {
    const client = fakeClient(100);
    const app = new AppState(client);
    const { container } = render(Group, { props: { app, groupId: 1 } });
    await waitFor(() => expect(container.querySelectorAll('.cell img').length).toBeGreaterThan(0));
    expect(app.screenKeys).toBeTruthy();
    app.screenKeys!({ kind: 'move', dx: 1, dy: 0, extend: false });
    app.screenKeys!({ kind: 'move', dx: 1, dy: 0, extend: true });
    app.screenKeys!({ kind: 'move', dx: 1, dy: 0, extend: true });
    await screen.findByText('3 selected');
    app.screenKeys!({ kind: 'remove' });
    await waitFor(() => expect(client.removeFromGroup).toHaveBeenCalledWith({ imageIds: [1, 2, 3] }));
    await app.undo();
    expect(client.undo).toHaveBeenCalled();
  });

  it('Ctrl-click toggles and shift-click selects a range', async () => {
    const client = fakeClient(100);
    const app = new AppState(client);
    const { container } = render(Group, { props: { app, groupId: 1 } });
    await waitFor(() => expect(container.querySelectorAll('.cell img').length).toBeGreaterThan(3));
    // jsdom has no layout: the grid is one column, so only a few cells exist.
    await fireEvent.click(container.querySelector('.cell[data-index="0"]')!);
    await fireEvent.click(container.querySelector('.cell[data-index="3"]')!, { shiftKey: true });
    await fireEvent.click(container.querySelector('.cell[data-index="2"]')!, { ctrlKey: true });
    await screen.findByText('3 selected');
    expect([...container.querySelectorAll('.cell[aria-selected="true"]')].map((e) => e.getAttribute('data-index'))).toEqual(['0', '1', '3']);
  });
});
