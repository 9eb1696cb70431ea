/**
 * A small push tokenizer for the XML parts of an XLSX package (workbook, styles, shared
 * strings, sheets). Not a general XML parser: no DTDs (a part that declares one is refused, so
 * no entity expansion can happen), namespaces reduced to local names. Text arrives with
 * entities already decoded; tags split across pushed chunks are handled.
 */
export interface XmlHandler {
  open(name: string, attributes: string, selfClosing: boolean): void;
  close(name: string): void;
  text(text: string): void;
}

/** No tag or text run in a spreadsheet part is this long; a longer one is hostile. */
export const MAX_XML_TOKEN = 32 * 1024 * 1024;

export class XmlTokenizer {
  private buffer = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly handler: XmlHandler) {}

  pushBytes(chunk: Uint8Array, final = false): void {
    this.push(this.decoder.decode(chunk, { stream: !final }), final);
  }

  push(chunk: string, final = false): void {
    const text = this.buffer.length === 0 ? chunk : this.buffer + chunk;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const lt = text.indexOf('<', i);
      if (lt === -1) {
        if (!final) break;
        this.handler.text(decodeEntities(text.slice(i)));
        i = n;
        break;
      }
      if (lt > i) this.handler.text(decodeEntities(text.slice(i, lt)));
      i = lt;
      const next = text.charCodeAt(lt + 1);
      if (next === 33 /* ! */) {
        if (text.startsWith('<!--', lt)) {
          const end = text.indexOf('-->', lt + 4);
          if (end === -1) break;
          i = end + 3;
          continue;
        }
        if (text.startsWith('<![CDATA[', lt)) {
          const end = text.indexOf(']]>', lt + 9);
          if (end === -1) break;
          this.handler.text(text.slice(lt + 9, end));
          i = end + 3;
          continue;
        }
        if (lt + 9 > n && !final) break;
        throw new Error('XML with a document type declaration is not accepted');
      }
      const gt = findTagEnd(text, lt + 1);
      if (gt === -1) break;
      if (next === 63 /* ? */) {
        i = gt + 1;
        continue;
      }
      if (next === 47 /* / */) {
        this.handler.close(localName(text, lt + 2, gt));
      } else {
        const selfClosing = text.charCodeAt(gt - 1) === 47;
        const bodyEnd = selfClosing ? gt - 1 : gt;
        let nameEnd = lt + 1;
        while (nameEnd < bodyEnd) {
          const c = text.charCodeAt(nameEnd);
          if (c === 32 || c === 9 || c === 10 || c === 13) break;
          nameEnd++;
        }
        this.handler.open(
          localName(text, lt + 1, nameEnd),
          text.slice(nameEnd, bodyEnd),
          selfClosing,
        );
      }
      i = gt + 1;
    }
    this.buffer = i < n ? text.slice(i) : '';
    if (final && this.buffer.length > 0) throw new Error('XML ends inside a tag');
    if (this.buffer.length > MAX_XML_TOKEN) throw new Error('a single value is longer than 32 MB');
  }
}

/** The '>' closing a tag, skipping any inside quoted attribute values. */
function findTagEnd(text: string, from: number): number {
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
  }
  return -1;
}

function localName(text: string, start: number, end: number): string {
  let s = start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) s = i + 1;
    else if (c === 32 || c === 9 || c === 10 || c === 13) {
      end = i;
      break;
    }
  }
  return text.slice(s, end);
}

/** One attribute's value (namespace prefixes ignored), entities decoded; undefined when absent. */
export function attribute(attributes: string, name: string): string | undefined {
  let from = 0;
  for (;;) {
    const at = attributes.indexOf(name, from);
    if (at === -1) return undefined;
    from = at + name.length;
    const before = attributes.charCodeAt(at - 1);
    // The name must start the attribute (after whitespace or a prefix's colon) and end at '='.
    if (at > 0 && before !== 32 && before !== 9 && before !== 10 && before !== 13 && before !== 58)
      continue;
    let j = from;
    while (attributes.charCodeAt(j) === 32) j++;
    if (attributes.charCodeAt(j) !== 61 /* = */) continue;
    j++;
    while (attributes.charCodeAt(j) === 32) j++;
    const quote = attributes.charCodeAt(j);
    if (quote !== 34 && quote !== 39) continue;
    const end = attributes.indexOf(String.fromCharCode(quote), j + 1);
    if (end === -1) return undefined;
    return decodeEntities(attributes.slice(j + 1, end));
  }
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  if (text.indexOf('&') === -1) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.charCodeAt(0) === 35) {
      const code =
        entity.charCodeAt(1) === 120
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[entity] ?? whole;
  });
}

/** Excel writes characters XML cannot hold as _xHHHH_ ("_x000D_" is a carriage return). */
export function decodeExcelEscapes(text: string): string {
  if (text.indexOf('_x') === -1) return text;
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_whole, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
