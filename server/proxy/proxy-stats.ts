/**
 * The proxy's counters, for the hub's `/hub/metrics` and `lectern proxy --metrics-port`. Plain
 * numbers bumped in place: counting costs no allocation on the request path (a status is a small
 * integer, and the map holds one entry per status ever seen).
 */
export class ProxyStats {
  /**
   * Answers to requests by status: the targets' and the proxy's own errors, websocket handshakes
   * included (101 once upgraded); not what the fallback (the hub) answers.
   */
  readonly requests = new Map<number, number>();
  /** Websockets currently open through the proxy. */
  activeWebsockets = 0;
  /** Websocket upgrades the targets accepted, ever. */
  websocketsOpened = 0;
  /** Requests and upgrades that failed to reach their target or broke off (each a 503 or a cut connection). */
  upstreamErrors = 0;

  countResponse(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }
}

/** The counters in Prometheus' text format, named as CHP names its own where it has one. */
export function prometheusText(stats: ProxyStats, routes: number): string {
  const lines = [
    '# HELP requests_proxy Answers to proxied requests and websocket handshakes, by status.',
    '# TYPE requests_proxy counter',
  ];
  for (const [status, count] of [...stats.requests].sort(([a], [b]) => a - b)) {
    lines.push(`requests_proxy{status="${status}"} ${count}`);
  }
  lines.push(
    '# HELP websockets_active Websockets open through the proxy.',
    '# TYPE websockets_active gauge',
    `websockets_active ${stats.activeWebsockets}`,
    '# HELP websockets_opened Websocket upgrades accepted by targets.',
    '# TYPE websockets_opened counter',
    `websockets_opened ${stats.websocketsOpened}`,
    '# HELP upstream_errors Requests that failed to reach their target or broke off.',
    '# TYPE upstream_errors counter',
    `upstream_errors ${stats.upstreamErrors}`,
    '# HELP routes Routes in the table.',
    '# TYPE routes gauge',
    `routes ${routes}`,
  );
  return `${lines.join('\n')}\n`;
}
