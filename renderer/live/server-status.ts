/**
 * A server's state in the words the GUI uses — running, starting, stopping, stopped, failed —
 * from the event stream when it is connected, else from the user model the API returned.
 */
import type { ServerPhase, UserModel } from '../api/types.js';
import { h } from '../dom.js';
import { serverKey, type LiveState } from './live-state.js';

export type ServerStatus = 'running' | 'starting' | 'stopping' | 'stopped' | 'failed';

const STATUS_LABELS: Record<ServerStatus, string> = {
  running: 'Running',
  starting: 'Starting…',
  stopping: 'Stopping…',
  stopped: 'Stopped',
  failed: 'Failed to start',
};

export function statusOf(phase: ServerPhase, failure: string | null): ServerStatus {
  if (phase === 'spawning') return 'starting';
  if (phase === 'stopped') return failure ? 'failed' : 'stopped';
  return phase;
}

/** A user's server (the default one unless `name` is given), as the freshest source knows it. */
export function serverStateOf(live: LiveState, user: UserModel, name = ''): { status: ServerStatus; failure: string | null } {
  if (live.connection === 'live') {
    // The stream lists every server that is not simply stopped: one it does not list is stopped.
    const server = live.servers.get(serverKey({ user: user.name, name }));
    return server ? { status: statusOf(server.phase, server.failure), failure: server.failure } : { status: 'stopped', failure: null };
  }
  const model = user.servers?.[name];
  const pending = model ? model.pending : name === '' ? user.pending : null;
  if (pending === 'spawn') return { status: 'starting', failure: null };
  if (pending === 'stop') return { status: 'stopping', failure: null };
  const running = model ? model.ready : name === '' && user.server !== null;
  return { status: running ? 'running' : 'stopped', failure: null };
}

export function statusBadge(status: ServerStatus): HTMLElement {
  return h('span', { class: ['badge', `badge-${status}`] }, STATUS_LABELS[status]);
}
