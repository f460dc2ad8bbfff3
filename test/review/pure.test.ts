import { describe, expect, it } from 'vitest';
import { PROTECT_KINDS } from '../../src/config/schema.js';
import { embedJson, escapeHtml } from '../../src/review/escape.js';
import { formatMs } from '../../src/review/html.js';
import { BottomKSample, rowHash } from '../../src/review/sample.js';
import { markCell, segmentsText } from '../../src/review/spans.js';
import { stageTimes } from '../../src/review/summary.js';

const ALL = PROTECT_KINDS;

describe('markCell: protected spans and their differences', () => {
  it('highlights the same spans on both sides when the translation keeps them', () => {
    const marked = markCell('Hello {name}, see https://example.com/a', '안녕하세요 {name}, https://example.com/a 참고', ALL);
    expect(marked.differences).toBe(0);
    expect(marked.source).toEqual(['Hello ', ['{name}', 'placeholders', 0], ', see ', ['https://example.com/a', 'urls', 0]]);
    expect(marked.translation).toEqual(['안녕하세요 ', ['{name}', 'placeholders', 0], ', ', ['https://example.com/a', 'urls', 0], ' 참고']);
  });

  it('marks a span missing from the translation and one the source does not have', () => {
    const marked = markCell('Run `npm test` with %s', 'Führe `npm tset` mit %s aus', ALL);
    expect(marked.source).toEqual(['Run ', ['`npm test`', 'code', 1], ' with ', ['%s', 'placeholders', 0]]);
    expect(marked.translation).toContainEqual(['`npm tset`', 'code', 1]);
    expect(marked.differences).toBe(2);
  });

  it('counts repeated spans: two in the source, one in the translation', () => {
    const marked = markCell('{a} and {a}', '{a} und', ALL);
    expect(marked.source).toEqual([['{a}', 'placeholders', 0], ' and ', ['{a}', 'placeholders', 1]]);
    expect(marked.differences).toBe(1);
  });

  it('finds a source span glued to other text in the translation', () => {
    // "%s" followed by a letter is not a placeholder for the finder, but it is the source's span, kept.
    const marked = markCell('Value: %s', 'Wert:%sok', ALL);
    expect(marked.differences).toBe(0);
    expect(marked.translation).toEqual(['Wert:', ['%s', 'literal', 0], 'ok']);
  });

  it('flags a leftover sentinel in the translation', () => {
    const marked = markCell('Hi {x}', 'Salut ⟦0⟧', ALL);
    expect(marked.translation).toContainEqual(['⟦0⟧', 'sentinel', 1]);
    expect(marked.differences).toBe(2);
  });

  it('keeps the text byte for byte and shows no translation when there is none', () => {
    const source = '<b>bold</b> & <script>alert(1)</script>';
    const marked = markCell(source, null, ALL);
    expect(segmentsText(marked.source)).toBe(source);
    expect(marked.translation).toBeNull();
  });

  it('highlights nothing when protection is off', () => {
    expect(markCell('{x} https://a.example', '{x}', []).source).toEqual(['{x} https://a.example']);
  });
});

describe('escaping', () => {
  it('escapes HTML special characters', () => {
    expect(escapeHtml(`<script>alert("x") & 'y'</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
  });

  it('embeds JSON that cannot close the script element and parses back to the same value', () => {
    const value = { text: '</script><script>alert(1)</script><!-- & \u2028\u2029', nested: ['</SCRIPT >'] };
    const embedded = embedJson(value);
    expect(embedded).not.toMatch(/<|>|&|\u2028|\u2029/);
    expect(JSON.parse(embedded)).toEqual(value);
  });
});

describe('sampling', () => {
  it('hashes row indexes deterministically into 32 bits', () => {
    expect(rowHash(42)).toBe(rowHash(42));
    expect(rowHash(42)).not.toBe(rowHash(43));
    expect(rowHash(42, 1)).not.toBe(rowHash(42, 2));
    for (const index of [0, 1, 2 ** 31, 2 ** 40 + 3]) expect(rowHash(index)).toBeGreaterThanOrEqual(0);
    expect(rowHash(2 ** 40)).not.toBe(rowHash(0));
  });

  it('keeps exactly `size` rows, in row order, the same every time, spread over the input', () => {
    const pick = () => {
      const sample = new BottomKSample<number>(50);
      for (let index = 0; index < 10_000; index++) sample.offer(index, () => index);
      return sample.values();
    };
    const first = pick();
    expect(first).toHaveLength(50);
    expect(first).toEqual(pick());
    expect(first).toEqual([...first].sort((a, b) => a - b));
    // Spread: some rows from each quarter of the input.
    for (let quarter = 0; quarter < 4; quarter++) {
      expect(first.some((index) => index >= quarter * 2500 && index < (quarter + 1) * 2500)).toBe(true);
    }
  });

  it('keeps everything when there are fewer rows than the size, and nothing with size 0', () => {
    const small = new BottomKSample<string>(10);
    for (let index = 0; index < 3; index++) small.offer(index, () => `row ${index}`);
    expect(small.values()).toEqual(['row 0', 'row 1', 'row 2']);
    const none = new BottomKSample<number>(0);
    none.offer(1, () => 1);
    expect(none.values()).toEqual([]);
    expect(() => new BottomKSample(-1)).toThrow(TypeError);
  });

  it('does not build rows that cannot enter the sample any more', () => {
    const sample = new BottomKSample<number>(5);
    let built = 0;
    for (let index = 0; index < 5000; index++)
      sample.offer(index, () => {
        built++;
        return index;
      });
    expect(built).toBeLessThan(200);
  });
});

describe('stage times from the event log', () => {
  it('measures prepare, submit + wait, merge and the whole run', () => {
    const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();
    const events = [
      { at: at(0), type: 'run.started' },
      { at: at(1), type: 'prepare.started' },
      { at: at(3), type: 'prepare.finished' },
      { at: at(4), type: 'upload.started' },
      { at: at(10), type: 'batch.collected' },
      { at: at(20), type: 'batch.collected' },
      { at: at(21), type: 'merge.started' },
      { at: at(22), type: 'merge.finished' },
    ];
    expect(stageTimes(events)).toEqual([
      { stage: 'prepare', ms: 2000 },
      { stage: 'submit + wait', ms: 16_000 },
      { stage: 'merge', ms: 1000 },
      { stage: 'total', ms: 22_000 },
    ]);
    expect(stageTimes([{ at: at(0), type: 'run.started' }])).toEqual([]);
  });

  it('formats durations', () => {
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
    expect(formatMs(3_660_000)).toBe('1 h 1 min');
  });
});
