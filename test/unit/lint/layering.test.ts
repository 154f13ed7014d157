/**
 * The layering rule (eslint.config.js, SERVER_LAYERS) fails the lint for each import that runs
 * upward or across the project's parts, and passes those that run downward.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const root = process.cwd();
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'lectern/layering').map((message) => message.message);
}

describe('the layering lint rule', () => {
  const refused: [string, string, RegExp][] = [
    ['server/proxy/x.ts', "import { HubContext } from '../hub/context.js';", /server\/proxy may not import server\/hub/],
    ['server/spawner/x.ts', "import { Database } from '../store/database.js';", /server\/spawner may not import server\/store/],
    ['server/proxy/x.ts', "import { hashSecret } from '../auth/secrets.js';", /server\/proxy may not import server\/auth/],
    ['server/config/x.ts', "import { JoinCodes } from '../auth/join-codes.js';", /server\/config may not import server\/auth/],
    ['server/hub/x.ts', "import { app } from 'electron';", /only main\/ may import it/],
    ['server/hub/x.ts', "import { quit } from '../../main/quit.js';", /server\/ imports nothing of main\//],
    ['renderer/x.ts', "import { html } from '../server/html/html.js';", /renderer\/ .* imports nothing of server\//],
    ['server/newfolder/x.ts', "import { createLogger } from '../logging/logger.js';", /server\/newfolder has no place in SERVER_LAYERS/],
  ];
  for (const [file, code, expected] of refused) {
    it(`refuses, in ${file}: ${code}`, async () => {
      const found = await problems(file, `${code}\nexport const used = [${code.match(/\{ (\w+) \}/)?.[1]}];\n`);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0] as string, expected);
    });
  }

  it('passes imports that run downward, or stay in their folder', async () => {
    const code = "import { html } from '../html/html.js';\nimport { hubRouter } from './routes.js';\nimport { ServerManager } from '../servers/server-manager.js';\nexport const used = [html, hubRouter, ServerManager];\n";
    assert.deepEqual(await problems('server/hub/x.ts', code), []);
  });
});
