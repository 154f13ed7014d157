/**
 * The doctor's report: everything a teacher needs to fix a setup that does not work, as plain data.
 * Which Pythons are on the machine and why each can or cannot run a student's server, which one
 * Lectern picks, whether the configured command exists, whether the data folder and the port are
 * usable, where students can reach this machine, and what firewall is in the way.
 *
 * It spans the spawner, the LAN and the store, so it lives in none of them. Two readers: `lectern
 * doctor` (server/cli/doctor.ts), which prints it before a hub runs, and the hub's API
 * (`GET /hub/api/lectern/doctor`, for the teacher GUI), which asks from inside a running hub.
 *
 * Nothing here changes the machine: the one write is a scratch file in the data dir, removed at
 * once, because only writing proves a folder writable (permissions alone lie on network drives and
 * for root).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rm, stat, statfs } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { portRange, type LecternConfig } from '../config/schema.js';
import { lanAddresses, type LanAddress } from '../lan/addresses.js';
import { joinUrls } from '../lan/join-url.js';
import { lecternVersion } from '../package-info.js';
import { findEnvironments, type EnvironmentCandidate } from '../spawner/discovery.js';
import type { LaunchPlan } from '../spawner/discovery.js';
import { ForkServer } from '../spawner/fork/fork-server.js';
import { resolveLaunch, type LaunchResolution } from '../spawner/launch-plan.js';
import { forkServerSpec } from '../spawner/local-spawners.js';
import { createLogger } from '../logging/logger.js';
import { findExecutable } from '../spawner/environment.js';
import { isolationProvider, type Isolation } from '../spawner/sandbox/isolation.js';
import { readLock } from '../store/lock.js';

export interface DoctorReport {
  /** ISO-8601 UTC. */
  generatedAt: string;
  lectern: { version: string; node: string; platform: NodeJS.Platform; arch: string; osRelease: string };
  /** Lectern runs as root (or the Administrator-less equivalent is unknown: false on Windows). */
  runningAsRoot: boolean;
  /** Every Python environment found on this machine. */
  environments: EnvironmentCandidate[];
  /** How students' servers will start, as the hub would decide now. */
  launch: Omit<LaunchResolution, 'environments'>;
  /** Whether students' servers run in a sandbox here, as `spawner.isolation` and this machine decide. */
  isolation: Isolation;
  /** Whether students' servers start forked from a fork server (`spawner.forkServer`), and if not, why. */
  forking: ForkingCheck;
  dataDir: DataDirCheck;
  network: NetworkCheck;
  firewalls: FirewallCheck[];
  /** What stops Lectern from starting or students from joining, most important first. Empty: ready. */
  problems: string[];
  /** Worth fixing, but Lectern runs. */
  warnings: string[];
}

export interface ForkingCheck {
  forked: boolean;
  /** How (what the fork server imports, and how long that took here), or why not. */
  detail: string;
}

export interface DataDirCheck {
  path: string;
  exists: boolean;
  writable: boolean;
  /** Free space for an unprivileged user, on the data dir's disk (or the disk it will be made on). */
  freeBytes: number | null;
  /** The pid of a Lectern hub using this data dir right now, if any (in the hub's own report: its own). */
  runningHubPid: number | null;
  problem: string | null;
}

/** `this-hub`: the report comes from the running hub, which listens on the port itself (not tried). */
export type PortStatus = 'free' | 'in-use' | 'not-permitted' | 'address-unavailable' | 'chosen-at-start' | 'this-hub' | 'error';

export interface NetworkCheck {
  ip: string;
  port: number;
  portStatus: PortStatus;
  portDetail: string;
  lanAddresses: LanAddress[];
  /** What students type, when the port is known. */
  joinUrls: string[];
  /** The hub listens on loopback only: no student can reach it. */
  loopbackOnly: boolean;
  /** The ports students' servers have their own origins on (`network.serverPorts`); null when they share the hub's (`serverOrigins: shared`). */
  serverPorts: string | null;
}

export interface FirewallCheck {
  name: string;
  state: 'on' | 'off' | 'unknown';
  /** How to let students in, for this firewall. */
  hint: string;
}

export interface DoctorOptions {
  /** Discover environments again instead of using what this process found before. */
  refresh?: boolean;
  /**
   * Set when a running hub reports on itself (its API), with the port its public listener bound
   * (the chosen one when configured as 0). Trying to bind that port would only find the hub
   * itself, so the port is reported as the hub's, and join URLs and firewall hints use it.
   */
  runningHub?: { port: number };
}

/** A port in one of these states lets Lectern start (or is the running hub's own). */
const USABLE_PORT: readonly PortStatus[] = ['free', 'chosen-at-start', 'this-hub'];
const LOW_DISK_BYTES = 1024 ** 3;

export async function doctorReport(config: LecternConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const problems: string[] = [];
  const warnings: string[] = [];

  const { environments: looked, ...launch } = await resolveLaunch(config.spawner, { refresh: options.refresh ?? false });
  // A configured program that is not a Python one needed no discovery; the teacher still wants the list.
  const environments = launch.command && !launch.command.python ? await findEnvironments() : looked;

  const [isolation, dataDir, network, firewalls] = await Promise.all([
    isolationProvider(config.spawner)(),
    inspectDataDir(config.dataDir),
    inspectNetwork(config, options.runningHub),
    inspectFirewalls(options.runningHub?.port ?? config.network.port, config.network.serverOrigins === 'ports' ? config.network.serverPorts : null),
  ]);
  const runningAsRoot = process.getuid?.() === 0;

  if (launch.problem) problems.push(launch.problem);
  if (isolation.problem) problems.push(isolation.problem);
  if (isolation.warning) warnings.push(isolation.warning);
  if (dataDir.problem) problems.push(dataDir.problem);
  if (network.portStatus === 'in-use' && dataDir.runningHubPid !== null) {
    warnings.push(`${network.portDetail} A Lectern hub (pid ${dataDir.runningHubPid}) runs on this data dir: probably it.`);
  } else if (!USABLE_PORT.includes(network.portStatus)) {
    problems.push(network.portDetail);
  }
  const forking = await inspectForking(config, launch.plan, isolation);
  if (forking.problem) warnings.push(forking.problem);
  if (launch.plan?.ui === 'none') {
    warnings.push('The chosen environment has only jupyter_server: students would get no notebook pages. Install jupyterlab into it.');
  }
  if (dataDir.freeBytes !== null && dataDir.freeBytes < LOW_DISK_BYTES) {
    warnings.push(`Only ${formatBytes(dataDir.freeBytes)} free on the data dir's disk: students' notebooks and server logs need room.`);
  }
  if (network.loopbackOnly) {
    warnings.push(`Lectern listens on ${config.network.ip} only: students on other machines cannot reach it. Use --ip 0.0.0.0 for the classroom.`);
  } else if (network.lanAddresses.length === 0) {
    warnings.push('This machine has no network address students could reach: connect it to the classroom network (Wi-Fi or cable).');
  }
  if (!network.loopbackOnly) {
    for (const firewall of firewalls.filter((f) => f.state === 'on')) warnings.push(`${firewall.name} is on. ${firewall.hint}`);
  }
  if (config.network.serverOrigins === 'shared') {
    warnings.push(
      "Students' servers share the hub's address (network.serverOrigins: shared): a page of a student's server that you open " +
        'can act as you on the hub. Set it to "ports" unless a reverse proxy in front of Lectern forwards one address only.',
    );
  }
  if (runningAsRoot) {
    warnings.push(
      isolation.sandbox
        ? "Lectern runs as root, so students' servers do too (with --allow-root). Their sandboxes keep them to their own " +
            'folders, but run Lectern as an ordinary user, so that a flaw in a sandbox or in Jupyter cannot reach the whole machine.'
        : "Lectern runs as root, so students' servers do too (with --allow-root): any student could read or change any " +
            'file on this machine. Run Lectern as an ordinary user.',
    );
  }

  return {
    generatedAt: new Date().toISOString(),
    lectern: { version: lecternVersion, node: process.version, platform: process.platform, arch: process.arch, osRelease: os.release() },
    runningAsRoot,
    environments,
    launch,
    isolation,
    forking: { forked: forking.forked, detail: forking.detail },
    dataDir,
    network,
    firewalls,
    problems,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks.

/**
 * Whether servers would start forked: as the hub decides (spawner/local-spawners.ts), and, when they
 * would, by starting the fork server once, which is the only way to know its imports work here.
 */
async function inspectForking(config: LecternConfig, plan: LaunchPlan | null, isolation: Isolation): Promise<ForkingCheck & { problem: string | null }> {
  if (!config.spawner.forkServer) return { forked: false, detail: 'Off (spawner.forkServer: false): servers start the normal way.', problem: null };
  if (!plan || isolation.problem) return { forked: false, detail: 'No server can start (see the problems).', problem: null };
  const spec = forkServerSpec(plan, isolation.sandbox, {
    jupyterConfigDir: path.join(config.dataDir, 'jupyter-config'),
    courseData: config.spawner.courseData,
    // The doctor writes nothing of the hub's: any existing, harmless folder will do as the fork server's HOME.
    forkServerDir: os.tmpdir(),
    environment: config.spawner.environment,
  });
  if (typeof spec === 'string') return { forked: false, detail: `Servers start the normal way: ${spec}.`, problem: null };
  const started = Date.now();
  try {
    const server = await ForkServer.start(spec, createLogger({ level: 'error', sink: () => undefined }));
    server.close();
  } catch (error) {
    const why = `Servers start the normal way, not forked: the fork server for ${spec.python} failed: ${(error as Error).message}`;
    return { forked: false, detail: why, problem: `${why}. They still start, more slowly and with more memory each; set spawner.forkServer to false to stop trying.` };
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const kernels = spec.forkKernels ? ' Servers fork their Python kernels too.' : '';
  return { forked: true, detail: `Forked from a fork server that imports ${spec.preload.join(', ')} (${seconds} s here, once).${kernels}`, problem: null };
}

async function inspectDataDir(dir: string): Promise<DataDirCheck> {
  const resolved = path.resolve(dir);
  const facts = await stat(resolved).catch(() => null);
  const running = facts?.isDirectory() ? await readLock(resolved).catch(() => null) : null;
  const check: DataDirCheck = {
    path: resolved,
    exists: facts?.isDirectory() ?? false,
    writable: false,
    freeBytes: null,
    runningHubPid: running?.pid ?? null,
    problem: null,
  };
  if (facts && !facts.isDirectory()) {
    check.problem = `The data dir ${resolved} is a file, not a folder: choose another --data-dir.`;
    return check;
  }
  const existing = check.exists ? resolved : await nearestExisting(resolved);
  check.freeBytes = await statfs(existing).then(
    (disk) => disk.bavail * disk.bsize,
    () => null,
  );
  check.writable = check.exists ? await canWriteIn(resolved) : await access(existing, constants.W_OK).then(() => true, () => false);
  if (!check.writable) {
    check.problem = check.exists
      ? `Lectern cannot write in the data dir ${resolved}: choose another --data-dir, or fix its permissions.`
      : `The data dir ${resolved} does not exist and cannot be created (${existing} is not writable): choose another --data-dir.`;
  }
  return check;
}

async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  while ((await stat(current).catch(() => null)) === null) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

async function canWriteIn(dir: string): Promise<boolean> {
  const scratch = path.join(dir, `.lectern-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(scratch, 'wx', 0o600);
    await handle.close();
    await rm(scratch, { force: true });
    return true;
  } catch {
    return false;
  }
}

async function inspectNetwork(config: LecternConfig, runningHub: DoctorOptions['runningHub']): Promise<NetworkCheck> {
  const { ip } = config.network;
  const port = runningHub?.port ?? config.network.port;
  const addresses = lanAddresses();
  const { status, detail } = runningHub
    ? { status: 'this-hub' as const, detail: `This hub listens on port ${port} on ${ip}.` }
    : await checkPort(ip, port);
  const loopbackOnly = ip === 'localhost' || ip === '::1' || ip.startsWith('127.');
  const urls =
    port === 0
      ? []
      : joinUrls({ bindIp: ip, port, baseUrl: config.network.baseUrl, tls: config.network.tls !== undefined, addresses }).map(
          (join) => join.url,
        );
  const serverPorts = config.network.serverOrigins === 'ports' ? config.network.serverPorts : null;
  return { ip, port, portStatus: status, portDetail: detail, lanAddresses: addresses, joinUrls: urls, loopbackOnly, serverPorts };
}

/** Whether Lectern could listen on `ip:port`, found by trying (and letting go at once). */
export function checkPort(ip: string, port: number): Promise<{ status: PortStatus; detail: string }> {
  const where = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  if (port === 0) return Promise.resolve({ status: 'chosen-at-start', detail: 'Port 0: a free port is chosen when Lectern starts.' });
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      switch (error.code) {
        case 'EADDRINUSE':
          resolve({
            status: 'in-use',
            detail: `Port ${port} is in use on ${ip}: another program (or another Lectern) listens at ${where}. Stop it, or start Lectern with another --port.`,
          });
          return;
        case 'EACCES':
          resolve({
            status: 'not-permitted',
            detail: `Listening at ${where} is not permitted: ports below 1024 need administrator rights. Use --port 8000.`,
          });
          return;
        case 'EADDRNOTAVAIL':
        case 'ENOTFOUND':
          resolve({
            status: 'address-unavailable',
            detail: `${ip} is not an address of this machine (network.ip). Use 0.0.0.0 to listen on every network.`,
          });
          return;
        default:
          resolve({ status: 'error', detail: `Cannot listen at ${where}: ${error.message}` });
      }
    });
    server.listen({ host: ip, port, exclusive: true }, () => {
      server.close(() => resolve({ status: 'free', detail: `Port ${port} is free on ${ip}.` }));
    });
  });
}

/**
 * The firewalls this OS has that are cheap to detect, with how to let students through each: to the
 * hub's port and, with a port per server, to `serverPorts` (`8001-8200`, or "0" for any).
 */
async function inspectFirewalls(port: number, serverPorts: string | null): Promise<FirewallCheck[]> {
  const tcp = port === 0 ? '<port>' : String(port);
  const range = serverPorts === null ? null : (portRange(serverPorts) ?? [1024, 65535]);
  switch (process.platform) {
    case 'win32':
      // Detecting it means parsing netsh's localised output: the hint alone is more reliable.
      return [
        {
          name: 'Windows Defender Firewall',
          state: 'unknown',
          hint:
            'When Windows asks whether Node.js (Lectern) may communicate on networks, allow Private networks. Set the classroom ' +
            'Wi-Fi to a Private network (Settings → Network & internet → Wi-Fi → Network profile type). Or add an inbound rule ' +
            `in an administrator PowerShell: New-NetFirewallRule -DisplayName "Lectern" -Direction Inbound -Protocol TCP -LocalPort ${tcp}${range ? `,${range[0]}-${range[1]}` : ''} -Action Allow -Profile Private`,
        },
      ];
    case 'darwin': {
      const output = await run('/usr/libexec/ApplicationFirewall/socketfilterfw', ['--getglobalstate']);
      const state = output === null ? 'unknown' : /enabled|State = [12]/i.test(output) ? 'on' : 'off';
      return [
        {
          name: 'macOS application firewall',
          state,
          hint:
            'When macOS asks whether "node" (or Lectern) may accept incoming network connections, click Allow. Otherwise: ' +
            'System Settings → Network → Firewall → Options, add Lectern (or node) and allow incoming connections.',
        },
      ];
    }
    default: {
      const found: FirewallCheck[] = [];
      const ufwConfig = await readSmall('/etc/ufw/ufw.conf');
      if (ufwConfig !== null || findExecutable('ufw', '/usr/sbin:/sbin:/usr/bin', 'linux')) {
        const enabled = ufwConfig === null ? null : /^\s*ENABLED\s*=\s*yes/im.test(ufwConfig);
        found.push({
          name: 'ufw',
          state: enabled === null ? 'unknown' : enabled ? 'on' : 'off',
          hint: `Let students in with: sudo ufw allow ${tcp}/tcp${range ? `, and to their servers with: sudo ufw allow ${range[0]}:${range[1]}/tcp` : ''}`,
        });
      }
      const firewallCmd = findExecutable('firewall-cmd', '/usr/bin:/bin:/usr/sbin:/sbin', 'linux');
      if (firewallCmd) {
        const output = await run(firewallCmd, ['--state']);
        found.push({
          name: 'firewalld',
          state: output === null ? 'unknown' : /^running/m.test(output) ? 'on' : 'off',
          hint:
            `Let students in with: sudo firewall-cmd --add-port=${tcp}/tcp --permanent` +
            `${range ? `, to their servers with: sudo firewall-cmd --add-port=${range[0]}-${range[1]}/tcp --permanent` : ''}, then sudo firewall-cmd --reload`,
        });
      }
      return found;
    }
  }
}

/** stdout (or, for a failing command, stdout and stderr together) of a quick read-only command; null if it cannot run. */
function run(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 2000, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && (typeof error.code === 'string' || error.killed)) resolve(null);
      else resolve(`${stdout}${stderr}`);
    });
  });
}

async function readSmall(file: string, maxBytes = 16_384): Promise<string | null> {
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.toString('utf8', 0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}


/** A byte count as people read it: `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
