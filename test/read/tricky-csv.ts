import { join } from 'node:path';

export const TRICKY_CSV = join(import.meta.dirname, '../fixtures/io/tricky.csv');

/** The values of test/fixtures/io/tricky.csv, as bytes in the file. */
export const TRICKY_ROWS = [
  { id: '1', text: 'hello, world', note: 'say "hi"', empty: '' },
  { id: '2', text: 'line1\nline2', note: 'crlf1\r\ncrlf2', empty: '' },
  { id: '3', text: '  leading and trailing  ', note: '한국어 텍스트', empty: '🙂 emoji' },
  { id: '4', text: '', note: '  ', empty: 'tab\there' },
  { id: '5', text: 'ends with quote"', note: 'mixed "a, b"\r\nnext', empty: ' x ' },
  { id: '6', text: '🙂\n\n한', note: '', empty: '' },
];
