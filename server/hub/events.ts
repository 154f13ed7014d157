/**
 * What the teacher's dashboard watches live: servers changing phase, the class's counts, accounts
 * changing, servers' CPU and memory, and the message to the class. The parts of the hub where these change report here (the
 * server manager on every phase change and usage sample, the users and groups API after each commit);
 * listeners (the `GET /hub/api/lectern/events` stream, the desktop app) get a snapshot first, then
 * each change, so they never have to poll.
 *
 * Counts are recomputed after every reported change and every usage sample (every few seconds), and
 * sent only when they differ: logins and expiring sessions, which nothing reports, show within a sample.
 */
import type { Logger } from '../logging/logger.js';
import type { ServerPhase, ServerState, ServerUsageSample } from '../servers/server-state.js';
import type { Announcement } from '../store/settings.js';

export interface HubCounts {
  users: number;
  /** Users with at least one live login session. */
  signedIn: number;
  running: number;
  starting: number;
  /** Servers that are not running because their last start failed or they stopped on their own. */
  failed: number;
  /** Join-code sign-ups waiting for the teacher's approval. */
  pendingApproval: number;
}

export type HubEvent =
  | { type: 'snapshot'; counts: HubCounts; servers: ServerState[]; announcement: Announcement | null }
  | ({ type: 'server' } & ServerState)
  | { type: 'counts'; counts: HubCounts }
  | { type: 'users' }
  | { type: 'usage'; servers: ServerUsageSample[] }
  | { type: 'announcement'; announcement: Announcement | null }
  | { type: 'handout'; id: number };

export type HubEventListener = (event: HubEvent) => void;

export interface HubEventSources {
  /** Servers worth showing: every one running, starting, stopping, or stopped with a failure. */
  servers(): ServerState[];
  /** The counts that come from accounts rather than servers. */
  accounts(): Pick<HubCounts, 'users' | 'signedIn' | 'pendingApproval'>;
  /** The teacher's message to the class. */
  announcement(): Announcement | null;
  log: Logger;
}

export class HubEvents {
  private readonly listeners = new Set<HubEventListener>();
  /** The counts listeners last heard; undefined while nobody listens (nothing is computed then). */
  private lastCounts: HubCounts | undefined;

  constructor(private readonly sources: HubEventSources) {}

  /** Sends `listener` a snapshot at once, then every event until the returned function is called. */
  subscribe(listener: HubEventListener): () => void {
    // Listeners already here hear of any change first, so the new one's snapshot starts where they are.
    this.checkCounts();
    const counts = this.lastCounts ?? this.countsNow();
    this.lastCounts = counts;
    this.deliver(listener, { type: 'snapshot', counts, servers: this.sources.servers(), announcement: this.sources.announcement() });
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  serverChanged(server: ServerState): void {
    this.publish({ type: 'server', ...server });
    this.checkCounts();
  }

  /** Accounts were created, deleted or renamed, or groups changed: the dashboard reads its lists again. */
  usersChanged(): void {
    this.publish({ type: 'users' });
    this.checkCounts();
  }

  /** The teacher posted or took down the message to the class: the projector shows it at once. */
  announcementChanged(announcement: Announcement | null): void {
    this.publish({ type: 'announcement', announcement });
  }

  /** A handout was delivered, handed in or collected: the handouts screen reads its status again. */
  handoutChanged(id: number): void {
    this.publish({ type: 'handout', id });
  }

  usageSampled(servers: ServerUsageSample[]): void {
    this.publish({ type: 'usage', servers });
    this.checkCounts();
  }

  private checkCounts(): void {
    if (this.listeners.size === 0) {
      this.lastCounts = undefined;
      return;
    }
    const counts = this.countsNow();
    if (this.lastCounts && sameCounts(counts, this.lastCounts)) return;
    this.lastCounts = counts;
    this.publish({ type: 'counts', counts });
  }

  private countsNow(): HubCounts {
    const servers = this.sources.servers();
    const inPhase = (phase: ServerPhase) => servers.filter((server) => server.phase === phase).length;
    return {
      ...this.sources.accounts(),
      running: inPhase('running'),
      starting: inPhase('spawning'),
      failed: servers.filter((server) => server.phase === 'stopped' && server.failure !== null).length,
    };
  }

  private publish(event: HubEvent): void {
    for (const listener of [...this.listeners]) this.deliver(listener, event);
  }

  /** A failing listener is a bug to log, never a reason for a server's start or stop to fail. */
  private deliver(listener: HubEventListener, event: HubEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.sources.log.error(`an event listener failed on a ${event.type} event`, { error: error instanceof Error ? error : String(error) });
    }
  }
}

function sameCounts(a: HubCounts, b: HubCounts): boolean {
  return (Object.keys(a) as (keyof HubCounts)[]).every((key) => a[key] === b[key]);
}
