/**
 * A small RFC 4180 CSV reader: comma-separated fields, records ended by CRLF, LF or CR,
 * fields in double quotes may hold commas, line breaks and doubled quotes (`""`). A quote
 * inside an unquoted field is kept as it is; text after a closing quote is an error.
 */

/** One record and the line it starts on (1-based), for error messages. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/** A CSV text that cannot be read, with the line where the problem is. */
export class CsvSyntaxError extends SyntaxError {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Reads CSV text into records. Blank lines are skipped; a leading byte-order mark is dropped.
 * @example parseCsv('id,title\n1,"Mug, large"') // [{ line: 1, fields: ['id', 'title'] }, { line: 2, fields: ['1', 'Mug, large'] }]
 */
export function parseCsv(text: string): CsvRecord[] {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let state: 'start' | 'unquoted' | 'quoted' | 'closed' = 'start';
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;

  const endField = () => {
    fields.push(field);
    field = '';
    state = 'start';
  };
  const endRecord = () => {
    endField();
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) records.push({ line: recordLine, fields });
    fields = [];
  };

  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    const newline = char === '\n' || char === '\r';
    if (state === 'quoted') {
      if (char === '"') {
        if (source[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          state = 'closed';
        }
      } else {
        field += char;
        if (char === '\n' || (char === '\r' && source[i + 1] !== '\n')) line++;
      }
      continue;
    }
    if (char === ',') {
      endField();
    } else if (newline) {
      if (char === '\r' && source[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (state === 'start' && char === '"') {
      state = 'quoted';
      quoteLine = line;
    } else if (state === 'closed') {
      throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(char)} after a closing quote (double a quote inside quotes: "")`);
    } else {
      field += char;
      state = 'unquoted';
    }
  }
  if (state === 'quoted') throw new CsvSyntaxError(quoteLine, 'a quoted field is never closed');
  if (state !== 'start' || field !== '' || fields.length > 0) endRecord();
  return records;
}
