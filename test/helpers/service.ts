/** Calling the core service the way both transports do (`dispatch`), and waiting on its job. */
import type { JobState, MethodName, Outputs } from '../../core/shared/contract.js';
import { dispatch, type ApiHost } from '../../core/api/host.js';

export interface ServiceCaller {
  call<M extends MethodName>(method: M, input?: unknown): Promise<Outputs[M]>;
  /** Polls getJob until `pred` holds. */
  until(pred: (job: JobState | null) => boolean): Promise<JobState>;
  /** Polls getJob until the job has ended (done, failed or cancelled). */
  finished(): Promise<JobState>;
}

/** `host` is a getter: suites that create the service in beforeAll pass `() => host`. */
export function serviceCaller(host: () => ApiHost): ServiceCaller {
  const call = async <M extends MethodName>(method: M, input: unknown = {}) => (await dispatch(host(), method, input)) as Outputs[M];
  const until = async (pred: (job: JobState | null) => boolean): Promise<JobState> => {
    for (;;) {
      const job = await call('getJob');
      if (pred(job)) return job!;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { call, until, finished: () => until((j) => j !== null && j.status !== 'running') };
}
