/**
 * `lectern doctor`: the doctor's report (server/doctor/report.ts) printed for a terminal, for a
 * teacher whose hub does not start or whose students cannot join.
 */
import type { LecternConfig } from '../config/schema.js';
import { doctorReport, formatBytes, type DoctorReport, type PortStatus } from '../doctor/report.js';
import type { StudentInterface } from '../spawner/discovery.js';

/** Prints the report for a terminal; 0 when nothing stops Lectern, 1 otherwise. */
export async function runDoctor(config: LecternConfig): Promise<number> {
  const report = await doctorReport(config);
  console.log(formatDoctorReport(report));
  return report.problems.length === 0 ? 0 : 1;
}

export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  const { lectern } = report;
  lines.push(`Lectern ${lectern.version} doctor: Node ${lectern.node} on ${lectern.platform} ${lectern.arch} (${lectern.osRelease})`, '');

  lines.push(`Python environments (${report.environments.length} found):`);
  if (report.environments.length === 0) lines.push('  none');
  const rows = report.environments.map((env, index) => [
    String(index + 1),
    env.source,
    env.pythonVersion ?? '?',
    env.modes.length > 0 ? env.modes.join(', ') : '-',
    env.path,
  ]);
  const header = ['#', 'source', 'Python', 'modes', 'path'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`;
  if (rows.length > 0) lines.push(line(header));
  const indent = `  ${' '.repeat((widths[0] ?? 1) + 2)}`;
  report.environments.forEach((env, index) => {
    lines.push(line(rows[index] as string[]));
    lines.push(`${indent}python:   ${env.python}`);
    const packages = Object.entries(env.packages).map(([name, version]) => `${name} ${version}`);
    lines.push(`${indent}packages: ${packages.length > 0 ? packages.join(', ') : 'no Jupyter packages'}`);
    lines.push(`${indent}found by: ${env.foundBy}`);
    if (env.alsoFoundAs.length > 0) lines.push(`${indent}also as:  ${env.alsoFoundAs.map((a) => `${a.python} (${a.source})`).join(', ')}`);
    for (const problem of env.problems) lines.push(`${indent}problem:  ${problem}`);
    for (const note of env.notes) lines.push(`${indent}note:     ${note}`);
  });
  lines.push('');

  const { launch } = report;
  const { plan } = launch;
  if (plan) {
    const where = plan.environment;
    const chosen = where ? report.environments.findIndex((env) => env.path === where.path) : -1;
    const environment = where ? `, environment ${chosen >= 0 ? `#${chosen + 1} ` : ''}${where.path}` : '';
    lines.push(`Chosen: mode ${plan.mode}${environment}`);
    lines.push(`  command:  ${plan.command.join(' ')}`);
    lines.push(`  students see: ${uiWords(plan.ui)}${plan.singleuserApp ? ` (JUPYTERHUB_SINGLEUSER_APP=${plan.singleuserApp})` : ''}`);
    lines.push(`  why:      ${launch.reason}`);
  } else {
    lines.push(`Chosen: none. ${launch.reason}`);
  }
  const { command } = launch;
  if (command) {
    lines.push(`  spawner.command: ${command.command.join(' ')}`);
    if (command.resolved) {
      lines.push(`  runs:     ${command.resolved}${command.python && command.python !== command.resolved ? ` (Python ${command.python})` : ''}`);
      if (command.environment) lines.push(`  in:       ${command.environment}`);
    }
  }
  lines.push('');

  const { isolation } = report;
  lines.push(
    isolation.sandbox
      ? `Students isolated: yes, each server in a ${isolation.sandbox} sandbox (spawner.isolation: ${isolation.setting})`
      : `Students isolated: NO (spawner.isolation: ${isolation.setting})`,
    `Fast start: ${report.forking.forked ? 'yes' : 'no'}. ${report.forking.detail}`,
    '',
  );

  const data = report.dataDir;
  const state = [
    data.exists ? 'exists' : 'does not exist yet',
    data.writable ? 'writable' : 'NOT writable',
    data.freeBytes === null ? 'free space unknown' : `${formatBytes(data.freeBytes)} free`,
    ...(data.runningHubPid !== null ? [`a Lectern hub is running on it (pid ${data.runningHubPid})`] : []),
  ];
  lines.push(`Data dir: ${data.path}`, `  ${state.join(', ')}`, '');

  const net = report.network;
  lines.push(`Listening address: ${net.ip}:${net.port}`, `  ${portWords(net.portStatus)}: ${net.portDetail}`);
  if (net.lanAddresses.length === 0) lines.push('  LAN addresses: none');
  else lines.push(`  LAN addresses: ${net.lanAddresses.map((a) => `${a.address} (${a.interfaceName}, ${a.kind})`).join(', ')}`);
  if (net.joinUrls.length > 0) lines.push(`  Students join at: ${net.joinUrls.join('  ')}`);
  lines.push(
    net.serverPorts === null
      ? "  Students' servers: at the hub's own address (network.serverOrigins: shared)"
      : `  Students' servers: each at a port of its own, from ${net.serverPorts === '0' ? 'any free port' : net.serverPorts} (a firewall must let those through too)`,
  );
  lines.push('');

  lines.push('Firewall:');
  if (report.firewalls.length === 0) lines.push('  no ufw or firewalld found');
  for (const firewall of report.firewalls) lines.push(`  ${firewall.name}: ${firewall.state}. ${firewall.hint}`);
  lines.push('');

  if (report.runningAsRoot) lines.push('Running as root: yes', '');
  if (report.warnings.length > 0) {
    lines.push(`Warnings (${report.warnings.length}):`, ...report.warnings.map((w) => `  - ${w}`), '');
  }
  if (report.problems.length > 0) {
    lines.push(`Problems (${report.problems.length}):`, ...report.problems.map((p) => `  - ${p}`));
  } else {
    lines.push('No problems found: `lectern start` should work.');
  }
  return lines.join('\n');
}

function uiWords(ui: StudentInterface): string {
  return {
    jupyterlab: 'JupyterLab',
    notebook: 'the Notebook',
    nbclassic: 'the classic Notebook (nbclassic)',
    none: 'no notebook pages',
    unknown: 'whatever the configured program serves',
  }[ui];
}

function portWords(status: PortStatus): string {
  return { free: 'free', 'in-use': 'IN USE', 'not-permitted': 'NOT PERMITTED', 'address-unavailable': 'ADDRESS UNAVAILABLE', 'chosen-at-start': 'chosen at start', 'this-hub': 'this hub', error: 'ERROR' }[status];
}
