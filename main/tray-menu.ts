/**
 * The tray (menu bar) icon's menu, from the hub's state: the join URL to read out or copy, and the
 * few things a teacher does without opening the window. Pure: `main.ts` builds the Electron menu
 * from this template and rebuilds it when the state changes.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface TrayState {
  /** What students type, or null while the hub starts. */
  joinUrl: string | null;
  activeServers: number;
}

export interface TrayActions {
  showWindow(): void;
  copyJoinUrl(): void;
  openInBrowser(): void;
  stopAllServers(): void;
  quit(): void;
}

export function trayMenuTemplate(state: TrayState, actions: TrayActions): MenuItemConstructorOptions[] {
  const servers = state.activeServers === 1 ? '1 server running' : `${state.activeServers} servers running`;
  return [
    { label: state.joinUrl ? `Join at ${state.joinUrl}` : 'Starting…', enabled: false },
    { label: 'Copy join address', enabled: state.joinUrl !== null, click: actions.copyJoinUrl },
    { type: 'separator' },
    { label: 'Open Lectern', click: actions.showWindow },
    { label: 'Open in browser', enabled: state.joinUrl !== null, click: actions.openInBrowser },
    { type: 'separator' },
    { label: servers, enabled: false },
    { label: 'Stop all servers', enabled: state.activeServers > 0, click: actions.stopAllServers },
    { type: 'separator' },
    { label: 'Quit Lectern', click: actions.quit },
  ];
}

export function trayTooltip(state: TrayState): string {
  return state.joinUrl ? `Lectern: students join at ${state.joinUrl}` : 'Lectern is starting';
}
