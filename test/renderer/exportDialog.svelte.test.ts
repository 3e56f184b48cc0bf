// @vitest-environment jsdom
/**
 * The Export dialog with a fake Client: a folder export into a folder an earlier export filled
 * says how many files no longer in these groups its preview would remove, and then removed.
 */
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../../core/shared/client.js';
import type { ExportPlan } from '../../core/shared/contract.js';
import { appContext, createApp } from '../../renderer/lib/state/app.js';
import ExportDialog from '../../renderer/components/ExportDialog.svelte';

function plan(dryRun: boolean): ExportPlan {
  const group = (name: string, newFiles: number, alreadyThere: number, removed: number) => ({
    groupId: 1,
    name,
    target: `/x/${name}`,
    count: newFiles + alreadyThere,
    newFiles,
    alreadyThere,
    failed: 0,
    removed,
  });
  return {
    total: 5,
    groups: [group('Fruit', 1, 3, 0), group('Group 5', 0, 1, 2)],
    conflicts: [],
    conflictCount: 0,
    alreadyThere: 4,
    removed: 2,
    removedFiles: [
      { imageId: 7, path: '/x/Group 5/avocado.png' },
      { imageId: 8, path: '/x/Group 5/kiwi.png' },
    ],
    failed: [],
    failedCount: 0,
    notes: [],
    dryRun,
    written: dryRun ? 0 : 1,
  };
}

describe('Export dialog', () => {
  it('says how many files no longer in these groups would be removed, then were, and lists them', async () => {
    const exportGroups = vi.fn(async ({ dryRun }: { dryRun: boolean }) => plan(dryRun));
    const app = createApp({ exportGroups } as unknown as Client);
    render(ExportDialog, { props: { onclose: () => {} }, context: appContext(app) });
    await fireEvent.input(screen.getByRole('textbox'), { target: { value: '/x' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    const preview = await screen.findByRole('region', { name: 'Export preview' });
    expect(preview.textContent).toContain('2 files no longer in these groups would be removed');
    expect(preview.textContent).toContain('/x/Group 5/avocado.png');
    await fireEvent.click(screen.getByRole('button', { name: 'Export 1 image' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('2 files no longer in these groups were removed'));
    expect(app.notices.toasts.at(-1)?.text).toContain('2 files no longer in these groups were removed');
  });
});
