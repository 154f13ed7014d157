/**
 * What is happening in the classroom right now, kept up to date by the hub's event stream
 * (`GET /hub/api/lectern/events`): the counts on the dashboard and every server's phase, as one
 * connection that all screens share, instead of each screen polling.
 *
 * The stream opens with a snapshot, so after any reconnect (the hub restarted, the laptop slept)
 * the state is whole again without replaying what was missed. `EventSource` reconnects by itself
 * after a dropped connection; an answer that is not a stream at all (an error status) closes it
 * for good, and then this module asks the endpoint what is wrong and tries again later, unless the
 * hub has no event stream at all.
 */
import type { HubApi } from '../api/client.js';
import type { Announcement, Counts, HubEvent, ServerEvent, UsageSample } from '../api/types.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

export interface LiveServer extends ServerEvent {
  usage: { cpuPercent: number; memoryBytes: number } | null;
}

export type LiveChange =
  | { kind: 'connection' }
  | { kind: 'counts' }
  /** `keys` are `serverKey`s; absent after a snapshot, when any server may have changed. */
  | { kind: 'servers'; keys?: string[] }
  | { kind: 'usage' }
  | { kind: 'users' }
  | { kind: 'announcement' }
  /** A handout was delivered, handed in or collected. */
  | { kind: 'handout'; id: number };

/** `ada/` for Ada's default server, `ada/project` for a named one. */
export function serverKey(server: { user: string; name: string }): string {
  return `${server.user}/${server.name}`;
}

const RETRY_DELAYS_MS = [2_000, 5_000, 15_000, 30_000];

export class LiveState {
  connection: ConnectionState = 'connecting';
  counts: Counts | null = null;
  readonly servers = new Map<string, LiveServer>();
  /** The teacher's message to the class: undefined until the stream has said. */
  announcement: Announcement | null | undefined = undefined;

  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private readonly listeners = new Set<(change: LiveChange) => void>();

  constructor(private readonly api: HubApi) {}

  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: (change: LiveChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connect(): void {
    this.source?.close();
    const source = new EventSource(this.api.url('/lectern/events'), { withCredentials: true });
    this.source = source;
    source.onmessage = (message: MessageEvent<string>) => {
      let event: HubEvent;
      try {
        event = JSON.parse(message.data) as HubEvent;
      } catch {
        return;
      }
      this.failures = 0;
      this.apply(event);
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) void this.closedByHub(source);
      else this.setConnection('reconnecting');
    };
  }

  /** Stops listening (the window is closing). */
  close(): void {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  private apply(event: HubEvent): void {
    switch (event.type) {
      case 'snapshot':
        this.counts = event.counts;
        this.servers.clear();
        for (const server of event.servers) this.servers.set(serverKey(server), { ...serverOf(server), usage: null });
        this.announcement = event.announcement;
        this.setConnection('live');
        this.emit({ kind: 'counts' });
        this.emit({ kind: 'servers' });
        this.emit({ kind: 'announcement' });
        break;
      case 'server': {
        const key = serverKey(event);
        const previous = this.servers.get(key);
        const usage = event.phase === 'running' ? (previous?.usage ?? null) : null;
        this.servers.set(key, { ...serverOf(event), usage });
        this.emit({ kind: 'servers', keys: [key] });
        break;
      }
      case 'counts':
        this.counts = event.counts;
        this.emit({ kind: 'counts' });
        break;
      case 'users':
        this.emit({ kind: 'users' });
        break;
      case 'usage':
        this.applyUsage(event.servers);
        this.emit({ kind: 'usage' });
        break;
      case 'announcement':
        this.announcement = event.announcement;
        this.emit({ kind: 'announcement' });
        break;
      case 'handout':
        this.emit({ kind: 'handout', id: event.id });
        break;
    }
  }

  private applyUsage(samples: UsageSample[]): void {
    for (const sample of samples) {
      const server = this.servers.get(serverKey(sample));
      if (server) server.usage = { cpuPercent: sample.cpuPercent, memoryBytes: sample.memoryBytes };
    }
  }

  /**
   * The hub answered with an error instead of a stream. Ask it which (EventSource cannot tell):
   * no such endpoint means this hub has no live updates, anything else is worth another try.
   */
  private async closedByHub(source: EventSource): Promise<void> {
    if (source !== this.source) return;
    let status = 0;
    const probe = new AbortController();
    try {
      const response = await fetch(this.api.url('/lectern/events'), { credentials: 'same-origin', signal: probe.signal });
      status = response.status;
    } catch {
      // The hub is unreachable: retry below.
    } finally {
      probe.abort();
    }
    if (source !== this.source) return;
    if (status === 404) {
      this.setConnection('unavailable');
      return;
    }
    if (status === 200) this.failures = 0;
    this.setConnection('reconnecting');
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)] ?? 30_000;
    this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    this.emit({ kind: 'connection' });
  }

  private emit(change: LiveChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** The server's fields only: an event's `type` (and anything a newer hub adds) stays out of the state. */
function serverOf(event: ServerEvent): ServerEvent {
  const { user, name, phase, started, failure } = event;
  // An older hub may send none of the last three.
  return { user, name, phase, started, failure, notice: event.notice ?? null, sandbox: event.sandbox ?? null, queuePosition: event.queuePosition ?? null };
}
