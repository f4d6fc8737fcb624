import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../../src/commerce/csv.js';

const fields = (text: string) => parseCsv(text).map((record) => record.fields);

describe('parseCsv', () => {
  it('reads plain records with a header', () => {
    expect(fields('id,title\n1,Mug\n2,Cup\n')).toEqual([['id', 'title'], ['1', 'Mug'], ['2', 'Cup']]);
  });

  it('keeps commas, line breaks and doubled quotes inside quoted fields', () => {
    const text = 'id,description\n1,"Big, round"\n2,"Line one\nline two"\n3,"The ""best"" mug"\n4,""\n';
    expect(fields(text)).toEqual([
      ['id', 'description'],
      ['1', 'Big, round'],
      ['2', 'Line one\nline two'],
      ['3', 'The "best" mug'],
      ['4', ''],
    ]);
  });

  it('numbers records by the line they start on', () => {
    const records = parseCsv('a,b\n1,"x\ny"\n2,z');
    expect(records.map((record) => record.line)).toEqual([1, 2, 4]);
  });

  it('accepts CRLF and CR line ends, a byte-order mark, blank lines and a missing last newline', () => {
    expect(fields('\ufeffa,b\r\n1,2\r\n\r\n3,4\r5,6')).toEqual([['a', 'b'], ['1', '2'], ['3', '4'], ['5', '6']]);
  });

  it('keeps empty fields, also at the end of a record', () => {
    expect(fields('a,b,c\n1,,\n')).toEqual([['a', 'b', 'c'], ['1', '', '']]);
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(fields('a\n12" plate')).toEqual([['a'], ['12" plate']]);
  });

  it('refuses an unclosed quote, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,"never closed\n2,3\n')).toThrow(new CsvSyntaxError(2, 'a quoted field is never closed'));
  });

  it('refuses text after a closing quote', () => {
    expect(() => parseCsv('a\n"x"y')).toThrow(/line 2: unexpected "y" after a closing quote/);
  });
});
