// The app:// protocol: serves the built renderer with a strict CSP, never a file outside it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_START_URL, isAppUrl } from '../../../main/electron/app-origin.js';
import { CONTENT_SECURITY_POLICY, resolveAppFile, serveAppRequest } from '../../../main/electron/protocol.js';
import { removeDir, tempDir } from '../cli/helpers.js';

let dir: string;
let root: string;
beforeAll(() => {
  dir = tempDir('branchlens-protocol-');
  root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not for the page');
});
afterAll(() => removeDir(dir));

const get = (url: string) => serveAppRequest(root, { url, method: 'GET' });

describe('serveAppRequest', () => {
  it('serves the app page and its assets with their types and the CSP', async () => {
    const page = await get(APP_START_URL);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('/assets/app.js');

    const script = await get('app://branchlens/assets/app.js');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers client-side routes with the app page and a missing asset with 404', async () => {
    expect(await (await get('app://branchlens/audit/42')).text()).toContain('/assets/app.js');
    expect((await get('app://branchlens/assets/missing.js')).status).toBe(404);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const url of [
      'app://branchlens/../secret.txt',
      'app://branchlens/%2e%2e/secret.txt',
      'app://branchlens/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://branchlens/..%5csecret.txt',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      const res = await get(url);
      expect(await res.text(), url).not.toContain('not for the page');
    }
    expect(resolveAppFile(root, 'app://branchlens/assets/%2e%2e%2f%2e%2e%2fsecret.txt')).toBeNull();
    expect(resolveAppFile(root, 'app://other/index.html')).toBeNull();
    expect((await serveAppRequest(root, { url: APP_START_URL, method: 'POST' })).status).toBe(405);
  });

  it('says how to build the UI when it is not built', async () => {
    const res = await serveAppRequest(join(dir, 'nothing-here'), { url: APP_START_URL, method: 'GET' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('npm run build:renderer');
  });
});

describe('the CSP', () => {
  it('allows scripts only from the app itself: no inline script, no eval, no other origin', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|https?:|\*/);
  });
});

describe('isAppUrl', () => {
  it('recognises only app://branchlens/', () => {
    expect(isAppUrl('app://branchlens/index.html')).toBe(true);
    expect(isAppUrl('app://branchlens')).toBe(true);
    expect(isAppUrl('APP://BRANCHLENS/x')).toBe(true);
    expect(isAppUrl('http://branchlens/')).toBe(false);
    expect(isAppUrl('app://branchlens.example/')).toBe(false);
    expect(isAppUrl('')).toBe(false);
  });
});
