import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mdnsAnswers, mdnsHostName } from '../../../server/lan/mdns.js';

describe('the computer’s .local name', () => {
  it('is the host name as DNS allows it: one label, lower case, no accents or spaces', () => {
    assert.equal(mdnsHostName('Zoë’s MacBook Pro'), 'zoes-macbook-pro.local');
    assert.equal(mdnsHostName('LAPTOP-7B.school.lan'), 'laptop-7b.local');
    assert.equal(mdnsHostName('x'.repeat(80)), `${'x'.repeat(63)}.local`);
    assert.equal(mdnsHostName('---'), null, 'nothing usable left: no name');
  });

  it('answers a question for its name with every address, and nothing else', () => {
    const addresses = ['192.168.1.20', '10.0.0.5'];
    assert.deepEqual(mdnsAnswers([{ name: 'Laptop.local', type: 'A' }], 'laptop.local', addresses), [
      { name: 'laptop.local', type: 'A', ttl: 120, data: '192.168.1.20' },
      { name: 'laptop.local', type: 'A', ttl: 120, data: '10.0.0.5' },
    ]);
    assert.deepEqual(mdnsAnswers([{ name: 'printer.local', type: 'A' }], 'laptop.local', addresses), [], 'another machine’s name');
    assert.deepEqual(mdnsAnswers([{ name: 'laptop.local', type: 'AAAA' }], 'laptop.local', addresses), [], 'IPv6 is not offered');
  });
});
