import { describe, expect, it } from 'vitest';
import { linksIn } from '../../../src/probes/crawl.js';

describe('linksIn', () => {
  const page = `<!doctype html><html><head>
    <link rel="stylesheet" href="assets/style.css"><script src='/js/app.js?v=2'></script>
    </head><body>
    <a href="about.html#team">About</a> <a href=../up.html>Up</a> <img src="/img/logo.png">
    <a href="https://example.com/elsewhere">other host</a> <a href="//cdn.example.com/x.js">protocol-relative</a>
    <a href="mailto:me@example.com">mail</a> <a href="javascript:void(0)">js</a> <a href="#top">top</a>
    <a href="http://127.0.0.1:8080/admin">absolute to another origin</a>
    </body></html>`;

  it('resolves relative links against the page and keeps path and query, not the fragment', () => {
    expect(linksIn(page, '/docs/index.html').sort()).toEqual(['/docs/about.html', '/docs/assets/style.css', '/img/logo.png', '/js/app.js?v=2', '/up.html']);
  });

  it('never leaves the origin: other hosts, protocol-relative and absolute URLs are skipped', () => {
    const links = linksIn(page, '/');
    expect(links.some((l) => l.includes('example.com') || l.includes('admin'))).toBe(false);
  });

  it('skips mailto, javascript and fragment-only links, and lists each link once', () => {
    expect(linksIn('<a href="/a">1</a><a href="/a">2</a><a href="#x">3</a>', '/')).toEqual(['/a']);
  });
});
