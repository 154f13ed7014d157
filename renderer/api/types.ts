/**
 * The shapes the teacher GUI reads from the hub's REST API and event stream, named as the GUI uses
 * them. Each is the hub's own OpenAPI description (`server/hub/api/openapi.yaml`), through the types
 * every build generates from it into `openapi.ts` (`npm run generate:api-types`): the GUI and the
 * hub cannot drift apart, and `renderer/` imports nothing of `server/`.
 */
import type { components } from './openapi.js';

type Schemas = components['schemas'];
/** The keys the hub always sends to a teacher, who holds every scope a model is filtered by. */
type Whole<T, Keys extends keyof T> = T & Required<Pick<T, Keys>>;

export type ServerModel = Whole<Schemas['Server'], 'name' | 'last_activity' | 'started' | 'pending' | 'ready' | 'stopped' | 'url'>;
export type ServerPhase = Schemas['HubServerState']['phase'];
export type ServerUsageModel = NonNullable<ServerModel['lectern_usage']>;
export type Isolation = Schemas['Isolation'];
export type SandboxKind = NonNullable<Isolation['sandbox']>;
export type UserModel = Whole<Schemas['User'], 'admin' | 'groups' | 'server' | 'pending' | 'created' | 'last_activity'> & {
  servers?: Record<string, ServerModel>;
};
export type GroupModel = Schemas['Group'];
/** `GET /hub/api/user` for the person at the keyboard. */
export type WhoAmI = Schemas['RequestIdentity'];

export type JoinAddress = Schemas['JoinAddress'];
export type AddressKind = JoinAddress['kind'];
export type JoinUrls = Schemas['JoinUrls'];
export type JoinState = Schemas['JoinSettings'];

export type Counts = Schemas['HubCounts'];
/** One server as the event stream tells it. */
export type ServerEvent = Schemas['HubServerState'];
export type UsageSample = Schemas['HubUsageEvent']['servers'][number];
export type Announcement = Schemas['Announcement'];
/** Messages on `GET /hub/api/lectern/events`. */
export type HubEvent = Schemas['HubEvent'];

export type HandoutSummary = Schemas['HandoutSummary'];
export type HandoutStudent = Schemas['HandoutStudent'];
export type Handout = Schemas['Handout'];

/** What a column of a class list holds (null: left out). */
export type RosterColumn = NonNullable<Schemas['RosterColumn']>;
export type ColumnChoice = Schemas['RosterColumnChoice'];
export type RosterRow = Schemas['RosterRow'];
export type RosterPreview = Schemas['RosterPreview'];
export type ImportedAccount = Schemas['RosterImported']['imported'][number];
export type PasswordReset = Schemas['PasswordReset'];

export type Setting = Schemas['Setting'];
export type SettingType = Setting['type'];
export type SettingValue = Setting['value'];
export type SettingsList = Schemas['Settings'];
export type SettingsApplied = Schemas['SettingsChanged'];
export type Problem = Schemas['SettingProblem'];
export type DoctorEnvironment = Schemas['DoctorEnvironment'];
export type DoctorReport = Schemas['DoctorReport'];
/** `POST /hub/api/lectern/import/preview`. */
export type ImportPreview = Schemas['ImportPreview'];
export type ImportChange = ImportPreview['changes'][number];

/** What `POST /lectern/groups/{name}/servers` and `POST /lectern/servers` did. */
export type ServersStart = Schemas['GroupStart'];
/** What `DELETE /lectern/groups/{name}/servers` and `DELETE /lectern/servers` did. */
export type ServersStop = Schemas['GroupStop'];
