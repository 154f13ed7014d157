/**
 * Quitting the desktop app. Closing the window only hides it: the class goes on, and the tray icon
 * brings it back. Quitting (tray, menu, Cmd-Q) with students' servers running first asks the
 * teacher; on yes, every server is stopped cleanly (the hub's stop ladder, then the database is
 * flushed) before the app exits. A second quit while stopping is ignored; the OS shutting down does
 * not ask.
 */

export interface QuitDeps {
  /** How many students' servers run or are starting right now. */
  activeServers(): number;
  /** Asks the teacher; resolves true to stop the servers and quit. */
  confirm(activeServers: number): Promise<boolean>;
  /** Stops every server and the hub (idempotent). */
  stopHub(): Promise<void>;
  /** Ends the process without emitting another quit request. */
  exit(code: number): void;
  log(message: string): void;
}

export type QuitState = 'running' | 'asking' | 'stopping' | 'stopped';

export class QuitController {
  private current: QuitState = 'running';

  constructor(private readonly deps: QuitDeps) {}

  get state(): QuitState {
    return this.current;
  }

  /**
   * Call from `before-quit` (with `event.preventDefault()` when this returns true: the app must not
   * quit on its own, this controller exits it once the hub is stopped).
   * `ask: false` for an OS shutdown or a signal, where nobody is there to answer.
   */
  requestQuit(options: { ask: boolean } = { ask: true }): boolean {
    if (this.current === 'stopped') return false;
    if (this.current !== 'running') return true;
    void this.quit(options.ask);
    return true;
  }

  private async quit(ask: boolean): Promise<void> {
    const active = this.deps.activeServers();
    if (ask && active > 0) {
      this.current = 'asking';
      const yes = await this.deps.confirm(active).catch(() => false);
      if (!yes) {
        this.current = 'running';
        return;
      }
    }
    this.current = 'stopping';
    this.deps.log(active > 0 ? `stopping ${active} server(s) before quitting` : 'quitting');
    let code = 0;
    try {
      await this.deps.stopHub();
    } catch (error) {
      code = 1;
      this.deps.log(`could not stop cleanly: ${(error as Error).message}`);
    }
    this.current = 'stopped';
    this.deps.exit(code);
  }
}

/** The question, in the teacher's words. */
export function quitQuestion(activeServers: number): { message: string; detail: string; buttons: [string, string] } {
  const servers = activeServers === 1 ? '1 student server is' : `${activeServers} student servers are`;
  return {
    message: `${servers} running. Stop ${activeServers === 1 ? 'it' : 'them'} and quit Lectern?`,
    detail: 'Students lose unsaved work in open notebooks. To keep the class going, close the window instead: Lectern stays in the tray.',
    buttons: ['Stop servers and quit', 'Cancel'],
  };
}
