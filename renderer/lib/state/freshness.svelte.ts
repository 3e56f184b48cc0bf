/**
 * What tells the screens to fetch again: a version for groups and images, one for libraries;
 * and each group's colour slot, fetched again with them, so every swatch matches the map.
 */
import type { Client } from '../../../core/shared/client.js';
import type { GroupSummary } from '../../../core/shared/contract.js';
import { cssColor } from '../spatial.js';

export class GroupColours {
  /** Each group's colour slot (GroupSummary.color). */
  slots = $state.raw<ReadonlyMap<number, number>>(new Map());

  constructor(
    private readonly client: Client,
    /** Told each listing of the groups (the number keys follow them). */
    private readonly onGroups: (groups: GroupSummary[]) => void = () => {},
  ) {}

  async refresh(): Promise<void> {
    try {
      const { groups } = await this.client.listGroups({});
      this.slots = new Map(groups.map((g) => [g.id, g.color]));
      this.onGroups(groups);
    } catch {
      // Swatches fall back to a colour of the group's id; the screens report errors themselves.
    }
  }

  /** A group's colour (grey for Unsorted, null), as the map shows it. */
  css(groupId: number | null): string {
    return cssColor(groupId === null ? null : (this.slots.get(groupId) ?? groupId));
  }
}

export class Versions {
  /** Bumped when groups or images change: screens refetch. */
  data = $state(0);
  /** Bumped when libraries change. */
  libraries = $state(0);

  constructor(private readonly colours: GroupColours) {}

  /** Groups or images changed: screens refetch, and the colours follow. */
  dataChanged(): void {
    this.data++;
    void this.colours.refresh();
  }

  librariesChanged(): void {
    this.libraries++;
  }
}
