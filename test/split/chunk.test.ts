import { describe, expect, it } from 'vitest';
import { type Chunk, chunkText, joinChunks } from '../../src/split/chunk.js';
import { countTokens, tokenUpperBound } from '../../src/split/tokens.js';

const chars = (s: string) => s.length;

describe('tokens', () => {
  it('counts o200k tokens and bounds them by UTF-8 bytes', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('Hello world')).toBe(2);
    for (const text of ['Hello world', '안녕하세요 세계', '⟦0⟧ ⟦12⟧', '😀😀', 'a\n\nb']) {
      expect(countTokens(text)).toBeLessThanOrEqual(tokenUpperBound(text));
    }
    expect(tokenUpperBound('é')).toBe(2);
  });
});

describe('chunkText (count = characters)', () => {
  const cases: Array<[string, string, number, Chunk[]]> = [
    ['empty', '', 5, [{ text: '', separator: '' }]],
    ['fits', 'short', 10, [{ text: 'short', separator: '' }]],
    [
      'paragraphs',
      'aaaa bbbb\n\ncccc dddd',
      9,
      [
        { text: 'aaaa bbbb', separator: '\n\n' },
        { text: 'cccc dddd', separator: '' },
      ],
    ],
    [
      'CRLF paragraphs',
      'ab cd\r\n\r\nef gh',
      6,
      [
        { text: 'ab cd', separator: '\r\n\r\n' },
        { text: 'ef gh', separator: '' },
      ],
    ],
    [
      'blank line with spaces',
      'ab  \n \ncd',
      3,
      [
        { text: 'ab', separator: '  \n \n' },
        { text: 'cd', separator: '' },
      ],
    ],
    [
      'sentences, packed greedily',
      'One. Two! Three? Four',
      10,
      [
        { text: 'One. Two!', separator: ' ' },
        { text: 'Three?', separator: ' ' },
        { text: 'Four', separator: '' },
      ],
    ],
    [
      'sentence end before a closing quote',
      'He said "Hi." Then left.',
      14,
      [
        { text: 'He said "Hi."', separator: ' ' },
        { text: 'Then left.', separator: '' },
      ],
    ],
    [
      'line breaks are sentence boundaries',
      'item one\nitem two\nitem three',
      18,
      [
        { text: 'item one\nitem two', separator: '\n' },
        { text: 'item three', separator: '' },
      ],
    ],
    [
      'CJK full stops without spaces',
      '今日は晴れ。明日は雨。',
      7,
      [
        { text: '今日は晴れ。', separator: '' },
        { text: '明日は雨。', separator: '' },
      ],
    ],
    [
      'whitespace as the last resort',
      'alpha beta gamma delta',
      11,
      [
        { text: 'alpha beta', separator: ' ' },
        { text: 'gamma delta', separator: '' },
      ],
    ],
    [
      'sentinels are never split',
      'see ⟦0⟧ and ⟦12⟧ now',
      8,
      [
        { text: 'see ⟦0⟧', separator: ' ' },
        { text: 'and ⟦12⟧', separator: ' ' },
        { text: 'now', separator: '' },
      ],
    ],
    ['an unbreakable word stays whole', 'x'.repeat(20), 5, [{ text: 'x'.repeat(20), separator: '' }]],
    [
      'leading blank lines stay in the first chunk',
      '\n\nabc def',
      5,
      [
        { text: '\n\nabc', separator: ' ' },
        { text: 'def', separator: '' },
      ],
    ],
    [
      'trailing whitespace stays in the last chunk',
      'abc def\n\n',
      4,
      [
        { text: 'abc', separator: ' ' },
        { text: 'def\n\n', separator: '' },
      ],
    ],
    [
      'a long paragraph is split by sentences, the short one kept whole',
      'A b. C d.\n\nE f',
      5,
      [
        { text: 'A b.', separator: ' ' },
        { text: 'C d.', separator: '\n\n' },
        { text: 'E f', separator: '' },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, text, max, expected) => {
    const chunks = chunkText(text, max, chars);
    expect(chunks).toEqual(expected);
    expect(chunks.map((c) => c.text + c.separator).join('')).toBe(text);
  });

  it('uses the real tokenizer by default', () => {
    const text = 'Hello there. '.repeat(40).trim();
    const chunks = chunkText(text, 20);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(countTokens(chunk.text)).toBeLessThanOrEqual(20);
  });
});

describe('chunkText properties', () => {
  const words = ['the', 'quick', 'brown', 'fox', 'Über', '한국어', '日本語', '😀', '⟦0⟧', '⟦123⟧', 'x'.repeat(90), 'supercalifragilistic'];
  const glue = [' ', ' ', ' ', '. ', '! ', '? ', '\n', '\r\n', '\n\n', '\r\n\r\n', '\n \n\t', '。', '… ', '  ', ''];

  function randomText(random: (n: number) => number): string {
    let text = random(4) === 0 ? glue[random(glue.length)]! : '';
    const length = random(200);
    for (let i = 0; i < length; i++) text += words[random(words.length)]! + glue[random(glue.length)]!;
    return text;
  }

  // A chunk may exceed the limit only if nothing inside it could have been cut.
  const unsplittable = (text: string) => !/\s/.test(text.trim()) && !/[。！？]\S/.test(text);

  it('joins back byte-exact, keeps chunks within the limit and non-empty', () => {
    let seed = 99;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const text = randomText(random);
      const max = [16, 20, 40, 100][random(4)]!;
      const count = random(2) === 0 ? countTokens : chars;
      const chunks = chunkText(text, max, count);
      expect(chunks.map((c) => c.text + c.separator).join('')).toBe(text);
      expect(chunks.at(-1)!.separator).toBe('');
      for (const chunk of chunks) {
        if (text !== '') expect(chunk.text).not.toBe('');
        if (count(chunk.text) > max) expect(unsplittable(chunk.text)).toBe(true);
        expect(/⟦\d*$/.test(chunk.text) && /^\d*⟧/.test(chunk.separator)).toBe(false);
      }
    }
  });

  it('chunks a large text quickly', () => {
    const text = 'This is a sentence of a long document. '.repeat(5000) + '\n\n' + 'Another paragraph here. '.repeat(5000);
    const started = performance.now();
    const chunks = chunkText(text, 1500);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(chunks.map((c) => c.text + c.separator).join('')).toBe(text);
    for (const chunk of chunks) expect(countTokens(chunk.text)).toBeLessThanOrEqual(1500);
  });
});

describe('joinChunks', () => {
  it('joins translations with the source separators', () => {
    const chunks: Chunk[] = [
      { text: 'a', separator: '\n\n' },
      { text: 'b', separator: ' ' },
      { text: 'c', separator: '' },
    ];
    expect(joinChunks(['A', 'B', 'C'], chunks)).toBe('A\n\nB C');
  });

  it('refuses a count mismatch', () => {
    expect(() => joinChunks(['A'], [])).toThrow(RangeError);
  });
});
