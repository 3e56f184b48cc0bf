/**
 * The app's session with the core: its status (version, backend, whether anything is grouped),
 * the job in progress, and the events the core pushes (a job's progress and end, changes).
 */
import type { Client } from '../../../core/shared/client.js';
import type { ApiEvent, JobState, NameOffer, Outputs } from '../../../core/shared/contract.js';
import { jobDoneText, message } from '../format.js';
import type { Edits } from './edits.svelte.js';
import type { Models } from './models.svelte.js';
import type { Versions } from './freshness.svelte.js';
import type { Notices } from './notices.svelte.js';

/** What each job is called in its failed or cancelled message. */
const JOB_NAMES: Record<JobState['kind'], string> = {
  cluster: 'Grouping',
  recluster: 'Regrouping',
  split: 'Splitting',
  'place-new': 'Place new images',
  'switch-model': 'Switching model',
  'download-model': 'Downloading the model',
};

export class Session {
  status = $state<Outputs['getStatus'] | null>(null);
  statusError = $state<string | null>(null);
  job = $state<JobState | null>(null);
  /** Names a regroup did not keep, offered to the group most of their images went to (the Groups screen asks). */
  nameOffers = $state<NameOffer[]>([]);
  /** What the watched folders brought last ("3 new photos in Pictures: placed in your groups"). */
  watchNote = $state<string | null>(null);

  constructor(
    private readonly client: Client,
    private readonly notices: Notices,
    private readonly versions: Versions,
    private readonly edits: Edits,
    private readonly models: Models,
  ) {}

  async refreshStatus(): Promise<void> {
    try {
      this.status = await this.client.getStatus({});
      this.statusError = null;
      if (this.status.job) this.job = this.status.job;
    } catch (err) {
      this.statusError = message(err);
    }
  }

  onEvent(e: ApiEvent): void {
    if (e.type === 'job') {
      const wasRunning = this.job?.status === 'running';
      this.job = e.job;
      if (e.job.status !== 'running' && wasRunning) {
        if (e.job.status === 'done') {
          this.notices.toast('info', jobDoneText(e.job));
          if (e.job.summary) this.nameOffers = e.job.summary.names?.offers ?? [];
        } else if (e.job.status === 'failed')
          this.notices.toast('error', `${JOB_NAMES[e.job.kind]} failed: ${e.job.error ?? 'unknown error'}`);
        else this.notices.toast('info', `${JOB_NAMES[e.job.kind]} cancelled`);
        this.versions.dataChanged();
        this.versions.librariesChanged();
        void this.refreshStatus();
        void this.edits.refreshHistory();
        this.models.changed();
      }
    } else if (e.type === 'watch') this.watchNote = e.text;
    else if (e.what === 'models') this.models.changed();
    else if (e.what === 'groups') {
      this.versions.dataChanged();
      void this.models.refresh();
    } else if (e.what === 'libraries') this.versions.librariesChanged();
    else if (e.what === 'history') void this.edits.refreshHistory();
  }
}
