/**
 * Runs code in a Jupyter kernel the way a notebook page does: over the kernel's websocket, with the
 * browser's cookies and Origin, through whatever proxy is in front.
 */
import WebSocket from 'ws';
import type { HttpClient } from './http-client.js';

const CELL_TIMEOUT_MS = 180_000;

interface KernelMessage {
  msg_type: string;
  parent_header: { msg_id?: string };
  content: { text?: string; execution_state?: string };
}

interface KernelRequest {
  msg_type: string;
  channel: 'shell' | 'control';
  content: Record<string, unknown>;
}

/** A request to run `code`, as a notebook's cell sends it. */
const executeRequest = (code: string): KernelRequest => ({
  msg_type: 'execute_request',
  channel: 'shell',
  content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
});

/**
 * Opens the kernel's websocket at `path`, sends `request`, and hands each message answering it
 * to `onMessage`, which returns the promise's value to end (closing the socket) or undefined to go on.
 */
function exchange<T>(client: HttpClient, path: string, request: KernelRequest, onMessage: (message: KernelMessage) => T | undefined, timeoutMs = CELL_TIMEOUT_MS): Promise<T> {
  const url = `${client.origin.replace(/^http/, 'ws')}${path}`;
  const socket = new WebSocket(url, { headers: { Cookie: client.cookieHeader(path) }, origin: client.origin });
  const msgId = `test-${Date.now()}-${Math.random()}`;
  return new Promise((resolve, reject) => {
    // Generous, so a loaded machine's slow kernel is not taken for a hub that lost the cell.
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no kernel output within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('the kernel websocket closed before the cell ended'));
    });
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          header: { msg_id: msgId, username: 'test', session: 'test', msg_type: request.msg_type, version: '5.3' },
          parent_header: {},
          metadata: {},
          content: request.content,
          channel: request.channel,
          buffers: [],
        }),
      );
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as KernelMessage;
      if (message.parent_header.msg_id !== msgId) return;
      const result = onMessage(message);
      if (result === undefined) return;
      clearTimeout(timer);
      resolve(result);
      socket.close();
    });
  });
}

/**
 * Sends `code` to a kernel over its websocket and resolves with what it printed. `on.busy` is told
 * when the kernel has started running it, `on.output` of each piece it prints; `on.timeoutMs`
 * gives up sooner than a cell may take (for a kernel being restarted, which drops what it was sent).
 */
export function runCode(
  client: HttpClient,
  path: string,
  code: string,
  on: { busy?: () => void; output?: (text: string) => void; timeoutMs?: number } = {},
): Promise<string> {
  let output = '';
  return exchange(client, path, executeRequest(code), (message) => {
    if (message.msg_type === 'stream') {
      output += message.content.text ?? '';
      on.output?.(message.content.text ?? '');
    }
    if (message.msg_type === 'status' && message.content.execution_state === 'busy') on.busy?.();
    return message.msg_type === 'status' && message.content.execution_state === 'idle' ? output : undefined;
  }, on.timeoutMs);
}

/** Sends `code` to a kernel and closes the websocket once the kernel has started running it, as a closed tab does. */
export function startCode(client: HttpClient, path: string, code: string): Promise<void> {
  return exchange(client, path, executeRequest(code), (message) => (message.msg_type === 'status' && message.content.execution_state === 'busy' ? true : undefined)).then(
    () => undefined,
  );
}

/**
 * Asks the kernel for its info on the control channel, over a websocket of its own, as a page that
 * reconnects or a debugger does; resolves with the reply. A kernel answers control requests at once,
 * even in the middle of a cell.
 */
export function askKernelInfoOnControl(client: HttpClient, path: string): Promise<void> {
  const request: KernelRequest = { msg_type: 'kernel_info_request', channel: 'control', content: {} };
  return exchange(client, path, request, (message) => (message.msg_type === 'kernel_info_reply' ? true : undefined)).then(() => undefined);
}
