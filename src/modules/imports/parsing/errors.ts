/** Why a file could not be read at all (as opposed to problems in single rows). */
export type ImportFileErrorCode =
  | 'empty'
  | 'header-only'
  | 'undecodable'
  | 'no-delimiter'
  | 'unclosed-quote'
  | 'too-many-rows'
  | 'too-many-columns'
  | 'too-large'
  | 'not-xlsx'
  | 'no-matching-sheet'
  | 'bad-json';

export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
  readonly code: ImportFileErrorCode;

  constructor(code: ImportFileErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
