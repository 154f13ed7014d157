/** What every screen of the teacher GUI is, and what it is given. */
import type { HubApi } from '../api/client.js';
import type { WhoAmI } from '../api/types.js';
import type { LiveState } from '../live/live-state.js';

export type ScreenId = 'dashboard' | 'users' | 'servers' | 'handouts' | 'settings' | 'export';

export interface ScreenContext {
  api: HubApi;
  live: LiveState;
  /** The teacher using the GUI. */
  me: WhoAmI;
}

export interface Screen {
  readonly title: string;
  readonly element: HTMLElement;
  /** Each time the screen comes into view: fetch what may have changed while it was away. */
  show(): void;
  /** When another screen takes its place: stop anything that only matters while it is seen. */
  hide(): void;
}
