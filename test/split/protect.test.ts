/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: placeholder syntax is the test data */
import { describe, expect, it } from 'vitest';
import { PROTECT_KINDS, type ProtectKind } from '../../src/config/schema.js';
import { findProtectedSpans, protectText, restoreText, SENTINEL_PATTERN, sentinel, sentinelsIn } from '../../src/split/protect.js';

/** The protected substrings, in order, with their kind. */
function spansOf(text: string, kinds: readonly ProtectKind[] = PROTECT_KINDS): string[] {
  return findProtectedSpans(text, kinds).map((s) => `${s.kind}:${text.slice(s.start, s.end)}`);
}

describe('findProtectedSpans', () => {
  const cases: Array<[string, ProtectKind[], string, string[]]> = [
    // code
    ['fenced block', ['code'], 'See:\n```js\nconst a = `x`;\n```\nDone.', ['code:```js\nconst a = `x`;\n```']],
    ['tilde fence', ['code'], '~~~\nls -la\n~~~\nok', ['code:~~~\nls -la\n~~~']],
    ['fence opened mid-line', ['code'], 'Sure! ```python\nprint(1)\n``` Hope it helps.', ['code:```python\nprint(1)\n```']],
    ['unclosed fence at line start runs to end', ['code'], 'Text\n```\ncode\nmore', ['code:```\ncode\nmore']],
    ['unclosed fence mid-line is not code', ['code'], 'Use ```bash\nls', []],
    ['longer closing fence', ['code'], '````\n```\nx\n`````\nafter', ['code:````\n```\nx\n`````']],
    ['CRLF fence', ['code'], 'a\r\n```\r\nx\r\n```\r\nb', ['code:```\r\nx\r\n```']],
    ['inline code', ['code'], 'Call `foo()` and ``a`b``.', ['code:`foo()`', 'code:``a`b``']],
    ['triple backticks on one line', ['code'], 'use ```x``` here', ['code:```x```']],
    ['lone backtick', ['code'], 'don`t stop\nnow`', []],
    // math
    ['display math', ['math'], 'So $$x^2 + 1$$ holds.', ['math:$$x^2 + 1$$']],
    ['inline math', ['math'], 'Let $x_1 + y$ be it.', ['math:$x_1 + y$']],
    ['money is not math', ['math'], 'It costs $5 and $10.', []],
    ['money range is not math', ['math'], 'From $5-$10 or $20/$30.', []],
    ['escaped dollar', ['math'], 'Price \\$5 and \\$x\\$', []],
    ['unclosed math delimiters', ['math'], 'a $$ b \\( c \\[ d', []],
    ['paren math', ['math'], 'Here \\(a+b\\) and \\[c\\].', ['math:\\(a+b\\)', 'math:\\[c\\]']],
    // urls
    ['url with trailing period', ['urls'], 'Visit https://example.com/a?b=1.', ['urls:https://example.com/a?b=1']],
    ['url in parentheses', ['urls'], '(see http://x.org/wiki/Foo_(bar)).', ['urls:http://x.org/wiki/Foo_(bar)']],
    [
      'url then comma',
      ['urls'],
      'Go to www.example.com, then ftp://f.example.net/x;',
      ['urls:www.example.com', 'urls:ftp://f.example.net/x'],
    ],
    ['url stops at CJK text', ['urls'], '访问https://example.com获取', ['urls:https://example.com']],
    ['not urls', ['urls'], 'http is a protocol; www. alone; example.com', []],
    // emails
    ['email', ['emails'], 'Mail john.doe+x@mail.example.co.uk.', ['emails:john.doe+x@mail.example.co.uk']],
    ['not emails', ['emails'], 'a @ b, @handle, x@y', []],
    // html
    [
      'html tags',
      ['html'],
      'Use <b>bold</b>, <br/>, <img src="x.png" alt=\'a > b\'> and <!-- note -->.',
      ['html:<b>', 'html:</b>', 'html:<br/>', 'html:<img src="x.png" alt=\'a > b\'>', 'html:<!-- note -->'],
    ],
    [
      'character references',
      ['html'],
      'Tom &amp; Jerry&nbsp;&#169;&#x1F600; but not AT&T or & ;',
      ['html:&amp;', 'html:&nbsp;', 'html:&#169;', 'html:&#x1F600;'],
    ],
    ['empty comment', ['html'], 'a <!----> b <!-- x', ['html:<!---->']],
    ['doctype and cdata', ['html'], '<!DOCTYPE html><![CDATA[x<y]]>', ['html:<!DOCTYPE html>', 'html:<![CDATA[x<y]]>']],
    ['comparisons are not html', ['html'], 'if a < b and c > d, or 3<4', []],
    // placeholders
    [
      'brace placeholders',
      ['placeholders'],
      'Hi {name}, {0} and {} of {{var}} / {{ user.name }} / ${x} / {0:.2f}',
      [
        'placeholders:{name}',
        'placeholders:{0}',
        'placeholders:{}',
        'placeholders:{{var}}',
        'placeholders:{{ user.name }}',
        'placeholders:${x}',
        'placeholders:{0:.2f}',
      ],
    ],
    [
      'printf placeholders',
      ['placeholders'],
      '%s has %d items, %(name)s, %(x)d, %1$s, %.2f, %5d',
      [
        'placeholders:%s',
        'placeholders:%d',
        'placeholders:%(name)s',
        'placeholders:%(x)d',
        'placeholders:%1$s',
        'placeholders:%.2f',
        'placeholders:%5d',
      ],
    ],
    ['not placeholders', ['placeholders'], '20% discount, 30%off, 100%effective, 100 % done, {"a": 1}, { spaced }', []],
    // interplay
    ['url inside code stays code', ['code', 'urls'], 'Run `curl https://x.io`', ['code:`curl https://x.io`']],
    ['html tag with url', ['urls', 'html'], '<a href="https://x.io">x</a>', ['html:<a href="https://x.io">', 'html:</a>']],
    ['email in mailto tag', ['emails', 'html'], '<a href="mailto:a@b.io">', ['html:<a href="mailto:a@b.io">']],
    ['math in code', ['code', 'math'], 'Use `$HOME` and `$PATH`', ['code:`$HOME`', 'code:`$PATH`']],
    ['kind off leaves it', ['urls'], 'Call `foo()` at {x}', []],
    // sentinel-like text
    ['existing sentinel, no kinds', [], 'keep ⟦3⟧ and ⟦12⟧ but not ⟦a⟧', ['sentinel:⟦3⟧', 'sentinel:⟦12⟧']],
    ['existing sentinel inside code', ['code'], '`⟦0⟧` ⟦1⟧', ['code:`⟦0⟧`', 'sentinel:⟦1⟧']],
  ];

  it.each(cases)('%s', (_name, kinds, text, expected) => {
    expect(spansOf(text, kinds)).toEqual(expected);
  });

  it('returns sorted, non-overlapping spans', () => {
    const text = '<a href="{url}">`x` $y$ https://a.b/{c} %s {{d}} e@f.gh ⟦0⟧</a>';
    const spans = findProtectedSpans(text, PROTECT_KINDS);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
  });
});

describe('sentinels', () => {
  it('formats and finds sentinels', () => {
    expect(sentinel(0)).toBe('⟦0⟧');
    expect(sentinel(42)).toBe('⟦42⟧');
    expect(sentinelsIn('a ⟦2⟧ b ⟦0⟧ ⟦x⟧ ⟦2⟧')).toEqual([2, 0, 2]);
    expect('⟦7⟧'.replace(SENTINEL_PATTERN, '<$1>')).toBe('<7>');
  });
});

describe('protectText / restoreText', () => {
  it('replaces spans by sentinels in order', () => {
    expect(protectText('Hi {name}, see https://x.io and `code`.', PROTECT_KINDS)).toEqual({
      text: 'Hi ⟦0⟧, see ⟦1⟧ and ⟦2⟧.',
      spans: ['{name}', 'https://x.io', '`code`'],
    });
  });

  it('with no kinds protects only sentinel-like text', () => {
    expect(protectText('`a` ⟦0⟧ {b}', [])).toEqual({ text: '`a` ⟦0⟧ {b}', spans: ['⟦0⟧'] });
    expect(protectText('plain', [])).toEqual({ text: 'plain', spans: [] });
  });

  const restoreCases: Array<[string, string, string[], ReturnType<typeof restoreText>]> = [
    ['all present', 'Bonjour ⟦0⟧, voir ⟦1⟧', ['{name}', 'https://x.io'], { ok: true, text: 'Bonjour {name}, voir https://x.io' }],
    ['reordered is fine', '⟦1⟧ ⟦0⟧', ['a', 'b'], { ok: true, text: 'b a' }],
    ['dollar patterns are literal', '⟦0⟧', ['$& $1 $$'], { ok: true, text: '$& $1 $$' }],
    ['missing', 'only ⟦1⟧', ['a', 'b', 'c'], { ok: false, missing: [0, 2], unexpected: [], duplicated: [] }],
    ['duplicated', '⟦0⟧ ⟦0⟧', ['a'], { ok: false, missing: [], unexpected: [], duplicated: [0] }],
    ['unexpected', '⟦0⟧ ⟦5⟧ ⟦3⟧', ['a'], { ok: false, missing: [], unexpected: [3, 5], duplicated: [] }],
    ['none expected, none present', 'plain', [], { ok: true, text: 'plain' }],
  ];

  it.each(restoreCases)('%s', (_name, translated, spans, expected) => {
    expect(restoreText(translated, spans)).toEqual(expected);
  });

  const pieces = [
    'Hello ',
    'world',
    '. ',
    '\n\n',
    '\r\n',
    '```js\nx = 1\n```',
    '```',
    '~~~',
    '`a`',
    '`',
    '$x$',
    '$5',
    '$$',
    '\\(a\\)',
    'https://ex.com/p?q=1',
    '(',
    ')',
    'www.a.io',
    'a@b.co',
    '@',
    '<b>',
    '</b>',
    '<',
    '>',
    '<!-- c -->',
    '{x}',
    '{',
    '}',
    '{{ y }}',
    '%s',
    '%',
    '%(n)d',
    '${z}',
    '⟦0⟧',
    '⟦12⟧',
    '⟦',
    '⟧',
    '3',
    '한국어',
    '日本語。',
    '😀',
    '\\',
    ' ',
  ];

  it('round-trips random texts byte-exact for any kinds', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const length = random(30);
      let text = '';
      for (let i = 0; i < length; i++) text += pieces[random(pieces.length)];
      const kinds = PROTECT_KINDS.filter(() => random(3) > 0);
      const { text: protectedText, spans } = protectText(text, kinds);
      // Only our own sentinels remain in the protected text.
      expect(sentinelsIn(protectedText)).toEqual(spans.map((_, i) => i));
      expect(restoreText(protectedText, spans)).toEqual({ ok: true, text });
    }
  });
});
