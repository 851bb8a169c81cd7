// Repeated keys in JSON text. JSON.parse keeps the last of a repeated key, while a person (or another parser)
// reading the file may take the first: `{"score": 0.99, …, "score": 0.41}` verifies as the signed document yet
// shows a forged score first. Callers that parse JSON from outside refuse such text, naming the key.

export interface RepeatedKey {
  /** Where the object holding it is, as problems name fields: `[2].meta`, or '' for the top level. */
  path: string;
  key: string;
}

type Container =
  | { kind: 'object'; keys: Set<string>; path: string; pending?: string }
  | { kind: 'array'; index: number; path: string };

/**
 * The repeated keys of every object in `text`, which must be valid JSON (JSON.parse it first): a single pass
 * that reads strings with their escapes and tracks the objects and arrays it is in. At most `limit` are given.
 */
export function repeatedKeys(text: string, limit = 20): RepeatedKey[] {
  const found: RepeatedKey[] = [];
  const stack: Container[] = [];
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return '';
    if (top.kind === 'array') return `${top.path}[${top.index}]`;
    return top.path ? `${top.path}.${top.pending ?? ''}` : (top.pending ?? '');
  };
  for (let i = 0; i < text.length && found.length < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      let k = j + 1;
      // JSON's whitespace: space, tab, line feed, carriage return.
      for (
        let w = text.charCodeAt(k);
        w === 0x20 || w === 0x09 || w === 0x0a || w === 0x0d;
        w = text.charCodeAt(++k)
      );
      const top = stack.at(-1);
      if (text.charCodeAt(k) === 0x3a /* : */ && top?.kind === 'object') {
        const raw = text.slice(i + 1, j);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) found.push({ path: top.path, key });
        top.keys.add(key);
        top.pending = key;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ kind: 'object', keys: new Set(), path: childPath() });
    } else if (c === 0x5b /* [ */) {
      stack.push({ kind: 'array', index: 0, path: childPath() });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
    }
  }
  return found;
}

/** `key "score" appears more than once in [0].meta`: for a problem's message. */
export function describeRepeatedKey(r: RepeatedKey): string {
  return `the key "${r.key}" appears more than once in ${r.path === '' ? 'the top-level object' : r.path}: which one counts would be a guess`;
}
