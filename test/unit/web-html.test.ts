/**
 * The auto-escaping `html` tagged template: values are text unless they are
 * `Html` (a nested template or an explicit `raw()`), arrays are rendered
 * element by element, and nothing is escaped twice.
 */
import { describe, expect, it } from 'vitest';
import { escapeText, Html, type HtmlValue, html, join, raw } from '../../src/web/html.js';

const IMG = '<img src=x onerror=alert(1)>';
const QUOTE = `" onmouseover="alert(3)' x='`;

describe('html: values are escaped by default', () => {
  it.each<[string, HtmlValue, string]>([
    ['a tag', IMG, '<p>&lt;img src=x onerror=alert(1)&gt;</p>'],
    ['an ampersand entity stays literal text', '&lt;', '<p>&amp;lt;</p>'],
    ['quotes', QUOTE, '<p>&quot; onmouseover=&quot;alert(3)&#39; x=&#39;</p>'],
    ['a closing script', '</script><script>alert(2)</script>', '<p>&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</p>'],
    ['a number', 42, '<p>42</p>'],
    ['zero', 0, '<p>0</p>'],
    ['undefined', undefined, '<p></p>'],
    ['null', null, '<p></p>'],
    ['false (so cond && html`…` works)', false, '<p></p>'],
    ['an empty string', '', '<p></p>'],
    ['line breaks become spaces, controls and bidi overrides go', 'a\nb\r\nc\td\u0007e\u202Ef', '<p>a b c def</p>'],
    ['leading and trailing spaces are kept', ' bad', '<p> bad</p>'],
  ])('%s', (_label, value, expected) => {
    expect(html`<p>${value}</p>`.toString()).toBe(expected);
  });

  it('escapes inside double-quoted attributes so a value cannot end the attribute', () => {
    const out = html`<a title="${QUOTE}">x</a>`.toString();
    expect(out).toBe('<a title="&quot; onmouseover=&quot;alert(3)&#39; x=&#39;">x</a>');
    // With quoted values blanked out, no event handler attribute remains.
    expect(out.replace(/"[^"]*"/g, '""')).not.toMatch(/\son\w+=/);
  });

  it('writes its own literal parts unchanged', () => {
    expect(html`<b class="x">a & b</b>`.toString()).toBe('<b class="x">a & b</b>');
    expect(html``.toString()).toBe('');
  });
});

describe('html: explicit opt-out and nesting', () => {
  it('inserts raw() markup as is', () => {
    expect(html`<p>${raw('<br>')}</p>`.toString()).toBe('<p><br></p>');
  });

  it('does not escape a nested template twice, while the nested template escaped its own values', () => {
    const inner = html`<em>${IMG}</em>`;
    expect(inner).toBeInstanceOf(Html);
    expect(html`<p>${inner}</p>`.toString()).toBe('<p><em>&lt;img src=x onerror=alert(1)&gt;</em></p>');
    expect(html`<div>${html`<p>${inner}</p>`}</div>`.toString()).toBe('<div><p><em>&lt;img src=x onerror=alert(1)&gt;</em></p></div>');
  });

  it('renders arrays element by element: templates as is, text escaped, nothing doubled', () => {
    const rows = ['a<b', 'c&d'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${rows}</ul>`.toString()).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
    expect(html`${['<i>', html`<i>`, 1, undefined, false, [html`<b>`, '&']]}`.toString()).toBe('&lt;i&gt;<i>1<b>&amp;');
  });

  it('never trusts a look-alike object: only real Html instances pass through', () => {
    const forged = { toString: () => '<script>alert(1)</script>' } as unknown as HtmlValue;
    expect(html`${forged}`.toString()).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('join() separates with markup or escaped text', () => {
    expect(join([html`<b>1</b>`, '<2>'], html`<br>`).toString()).toBe('<b>1</b><br>&lt;2&gt;');
    expect(join(['a', 'b'], ' & ').toString()).toBe('a &amp; b');
    expect(join([], html`<br>`).toString()).toBe('');
  });

  it('escapeText is the same escaping as an interpolation', () => {
    expect(escapeText(IMG)).toBe(html`${IMG}`.toString());
    expect(escapeText(7)).toBe('7');
  });
});
