/**
 * The shapes the teacher GUI reads from the hub's REST API and event stream: JupyterHub 3.0's
 * models, cut down to the keys the GUI uses, and Lectern's extensions under `/hub/api/lectern/`.
 * Written out here rather than imported, because `renderer/` never imports `server/` code; the
 * server's OpenAPI description (`server/hub/api/openapi.yaml`) is the reference for both.
 */

export type ServerPhase = 'stopped' | 'spawning' | 'running' | 'stopping';

/** `lectern_usage` on a server model: the server and its kernels, null while it is not running. */
export interface ServerUsageModel {
  cpu_percent: number;
  memory_bytes: number;
  processes: number;
}

export interface ServerModel {
  name: string;
  last_activity: string | null;
  started: string | null;
  pending: 'spawn' | 'stop' | null;
  ready: boolean;
  stopped: boolean;
  url: string;
  lectern_usage?: ServerUsageModel | null;
  /** The sandbox it runs in; null when it is not isolated (or not running). */
  lectern_sandbox?: SandboxKind | null;
  lectern_notice?: string | null;
}

export type SandboxKind = 'bubblewrap' | 'sandbox-exec';

/** `GET /hub/api/lectern/isolation`: whether students' servers run in a sandbox. */
export interface Isolation {
  setting: 'auto' | 'sandbox' | 'off';
  sandbox: SandboxKind | null;
  program: string | null;
  problem: string | null;
  warning: string | null;
}

export interface UserModel {
  kind: 'user';
  name: string;
  /** The full name from the class list or the join page, accents kept. */
  lectern_display_name?: string | null;
  admin: boolean;
  groups: string[];
  server: string | null;
  pending: 'spawn' | 'stop' | null;
  created: string;
  last_activity: string | null;
  servers?: Record<string, ServerModel>;
}

export interface GroupModel {
  name: string;
  users: string[];
}

/** `GET /hub/api/user` for the person at the keyboard. */
export interface WhoAmI {
  kind: 'user' | 'service';
  name: string;
  admin: boolean;
}

/** `loopback`: the hub listens on this machine only, and no student can use the address. */
export type AddressKind = 'wifi' | 'ethernet' | 'vpn' | 'other' | 'loopback';

export interface JoinAddress {
  address: string;
  /** Null for loopback, or an address the OS does not list. */
  interfaceName: string | null;
  kind: AddressKind;
  url: string;
  /** The QR code of `url`, as an SVG document. */
  qrSvg: string;
  preferred: boolean;
}

/** `GET /hub/api/lectern/join-urls`. */
export interface JoinUrls {
  addresses: JoinAddress[];
  preferred: string | null;
  /** The hub at this computer's `.local` name, which survives a new address; null when not announced. */
  nameUrl?: string | null;
  /** The ports students' servers open on (`8001-8200`, `0`: any), for firewalls; null when they share the hub's. */
  serverPorts?: string | null;
}

/** `GET /hub/api/lectern/join`: how students get in. */
export interface JoinState {
  mode: string;
  code: string | null;
  approval: boolean;
  pending: string[];
}

export interface Counts {
  users: number;
  signedIn: number;
  running: number;
  starting: number;
  failed: number;
  pendingApproval: number;
}

/** One server as the event stream tells it. */
export interface ServerEvent {
  user: string;
  name: string;
  phase: ServerPhase;
  started: string | null;
  failure: string | null;
  /** Something its student should know (a kernel stopped for using too much memory). */
  notice: string | null;
  /** The sandbox it runs in; null when it is not isolated (or stopped). */
  sandbox: SandboxKind | null;
  /** While it waits for a free start slot, its place in the line (from 1); null otherwise. */
  queuePosition: number | null;
}

export interface UsageSample {
  user: string;
  name: string;
  cpuPercent: number;
  memoryBytes: number;
}

/** The teacher's message to the class (`GET /hub/api/lectern/announcement`). */
export interface Announcement {
  message: string;
  link: string | null;
  posted: string;
}

/** Messages on `GET /hub/api/lectern/events`. */
export type HubEvent =
  | { type: 'snapshot'; counts: Counts; servers: ServerEvent[]; announcement: Announcement | null }
  | ({ type: 'server' } & ServerEvent)
  | { type: 'counts'; counts: Counts }
  | { type: 'users' }
  | { type: 'usage'; servers: UsageSample[] }
  | { type: 'announcement'; announcement: Announcement | null }
  | { type: 'handout'; id: number };

/** A handout (`GET /hub/api/lectern/handouts`). */
export interface HandoutSummary {
  id: number;
  name: string;
  class: string | null;
  version: number;
  availableAt: string | null;
  dueAt: string | null;
  late: 'mark' | 'refuse';
  created: string;
  collectedAt: string | null;
}

/** Where one student stands with a handout. */
export interface HandoutStudent {
  user: string;
  folder: string | null;
  version: number;
  problem: string | null;
  opened: string | null;
  changed: boolean;
  handedIn: string | null;
  late: boolean;
  collected: string | null;
  latestSnapshot: number | null;
}

/** `GET /hub/api/lectern/handouts/{id}`. */
export interface Handout extends HandoutSummary {
  files: { path: string; bytes: number }[];
  students: HandoutStudent[];
}

/** What a column of a class list holds (server/auth/roster-columns.ts). */
export type RosterColumn = 'login' | 'fullName' | 'firstName' | 'lastName' | 'email' | 'studentId' | 'group' | 'password';

export interface ColumnChoice {
  label: string;
  column: RosterColumn | null;
}

export interface RosterRow {
  line: number;
  name: string;
  displayName: string | null;
  password: 'given' | 'generated';
  group: string | null;
  problems: string[];
  note: string | null;
  existing: boolean;
}

export interface RosterPreview {
  rows: RosterRow[];
  valid: number;
  invalid: number;
  existing: number;
  header: boolean;
  columns: ColumnChoice[];
}

export interface ImportedAccount {
  name: string;
  displayName: string | null;
  group: string | null;
  password?: string;
}


export interface PasswordReset {
  name: string;
  password: string;
  mustChange: boolean;
}

export type SettingType = 'boolean' | 'integer' | 'number' | 'string' | 'enum';
export type SettingValue = boolean | number | string | null;

export interface Setting {
  key: string;
  label: string;
  description: string;
  value: SettingValue;
  type: SettingType;
  options?: string[];
  min?: number;
  max?: number;
  /** Whether null is a value (for the Python environment: let Lectern choose); an empty field sends it. */
  nullable?: boolean;
  restartRequired: boolean;
  /** An enum's choices in the teacher's words, by value. */
  choices?: Record<string, string>;
  /** A number shown in `unit`, each one `factor` of the value (seconds shown as minutes). */
  display?: { unit: string; factor: number };
}

export interface SettingsList {
  settings: Setting[];
  pendingRestart: string[];
  /** Whether the hub can restart itself (`POST /lectern/restart`). */
  canRestart?: boolean;
}

export interface SettingsApplied {
  applied: string[];
  needsRestart: string[];
}

export interface Problem {
  key: string;
  message: string;
}

export interface DoctorEnvironment {
  path: string;
  python: string;
  foundBy: string;
  pythonVersion: string | null;
  packages: Record<string, string>;
  modes: string[];
  problems: string[];
  notes: string[];
}

/** The parts of `GET /hub/api/lectern/doctor` the settings screen shows. */
export interface DoctorReport {
  environments: DoctorEnvironment[];
  launch: {
    plan: { mode: string; ui: string; environment: { path: string; python: string; pythonVersion: string | null } | null } | null;
    reason: string;
    problem: string | null;
  };
  problems: string[];
  warnings: string[];
}

/** One setting a config file would change. */
export interface ImportChange {
  key: string;
  from: unknown;
  to: unknown;
  restartRequired: boolean;
}

/** `POST /hub/api/lectern/import/preview`. */
export interface ImportPreview {
  changes: ImportChange[];
  /** Why the file cannot be imported (`key` is `''` for the file as a whole); empty when it can. */
  problems: Problem[];
  /** Keys the file sets that only a config file can: importing leaves them alone. */
  configFileOnly: Problem[];
}

/** What `POST /lectern/groups/{name}/servers` and `POST /lectern/servers` did. */
export interface ServersStart {
  started: string[];
  alreadyRunning: string[];
  refused: { name: string; reason: string }[];
}

/** What `DELETE /lectern/groups/{name}/servers` and `DELETE /lectern/servers` did. */
export interface ServersStop {
  stopping: string[];
  alreadyStopped: string[];
}
