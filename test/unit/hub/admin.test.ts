import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withBaseUrl } from '../../../server/hub/admin.js';

describe('withBaseUrl', () => {
  it('fills in every {{baseUrl}} placeholder, escaped', () => {
    const page = '<head><meta name="lectern-base-url" content="{{baseUrl}}"><script src="{{baseUrl}}hub/admin/static/app.js"></script></head>';
    assert.equal(
      withBaseUrl(page, '/class "a"/'),
      '<head><meta name="lectern-base-url" content="/class &quot;a&quot;/"><script src="/class &quot;a&quot;/hub/admin/static/app.js"></script></head>',
    );
  });

  it('adds the meta tag to a page without one', () => {
    assert.equal(
      withBaseUrl('<!doctype html><html><head lang="en"><title>Lectern</title></head></html>', '/'),
      '<!doctype html><html><head lang="en">\n<meta name="lectern-base-url" content="/"><title>Lectern</title></head></html>',
    );
  });
});
