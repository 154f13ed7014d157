/**
 * Runs code in a Jupyter kernel the way a notebook page does: over the kernel's websocket, with the
 * browser's cookies and Origin, through whatever proxy is in front.
 */
import WebSocket from 'ws';
import type { HttpClient } from './http-client.js';

/** Sends `code` to a kernel over its websocket and resolves with what it printed. */
export function runCode(client: HttpClient, path: string, code: string): Promise<string> {
  const url = `${client.origin.replace(/^http/, 'ws')}${path}`;
  const socket = new WebSocket(url, { headers: { Cookie: client.cookieHeader(path) }, origin: client.origin });
  const msgId = `test-${Date.now()}`;
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('no kernel output within 60 s'));
    }, 60_000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          header: { msg_id: msgId, username: 'test', session: 'test', msg_type: 'execute_request', version: '5.3' },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
          channel: 'shell',
          buffers: [],
        }),
      );
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        msg_type: string;
        parent_header: { msg_id?: string };
        content: { text?: string; execution_state?: string };
      };
      if (message.parent_header.msg_id !== msgId) return;
      if (message.msg_type === 'stream') output += message.content.text ?? '';
      if (message.msg_type === 'status' && message.content.execution_state === 'idle') {
        clearTimeout(timer);
        socket.close();
        resolve(output);
      }
    });
  });
}
