/**
 * EventBridge event patterns, the common subset: exact values (strings, numbers, booleans, null), nested
 * objects, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `exists`, `numeric` and
 * `$or`. A field matches when its value (or, for an array, any element) matches any entry of the pattern's
 * array; every field of the pattern must match. `cidr` is not supported.
 */

export type EventPattern = { [field: string]: unknown };

export class InvalidEventPatternError extends Error {
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = 'InvalidEventPatternException';
  }
}

type Matcher = (value: unknown) => boolean;

/** A pattern checked once and turned into a function of the event. */
export type CompiledPattern = (event: unknown) => boolean;

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLiteral = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function stringMatcher(operator: string, arg: unknown, test: (value: string, wanted: string) => boolean): Matcher {
  if (typeof arg === 'string') return (v) => typeof v === 'string' && test(v, arg);
  if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string' && Object.keys(arg).length === 1) {
    const wanted = arg['equals-ignore-case'].toLowerCase();
    return (v) => typeof v === 'string' && test(v.toLowerCase(), wanted);
  }
  throw new InvalidEventPatternError(`${operator} must be a string or {"equals-ignore-case": string}`);
}

function wildcardMatcher(arg: unknown): Matcher {
  if (typeof arg !== 'string') throw new InvalidEventPatternError('wildcard must be a string');
  // `*` is any run of characters; `\*` a literal star.
  const source = arg
    .split(/(\\\*|\*)/)
    .map((part) => (part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (v) => typeof v === 'string' && regex.test(v);
}

function numericMatcher(arg: unknown): Matcher {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) throw new InvalidEventPatternError('numeric needs operator and number pairs, e.g. [">", 0, "<=", 5]');
  const tests: ((v: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = NUMERIC_OPS[String(arg[i])];
    const bound = arg[i + 1];
    if (!op || typeof bound !== 'number') throw new InvalidEventPatternError(`numeric: "${String(arg[i])}" must be one of = < <= > >= followed by a number`);
    tests.push((v) => op(v, bound));
  }
  return (v) => typeof v === 'number' && tests.every((t) => t(v));
}

function anythingBut(arg: unknown): Matcher {
  if (isLiteral(arg)) return (v) => v !== arg;
  if (Array.isArray(arg)) {
    if (!arg.every(isLiteral)) throw new InvalidEventPatternError('anything-but lists only strings, numbers, booleans or null');
    const excluded = new Set(arg);
    return (v) => !excluded.has(v);
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [[operator, inner]] = Object.entries(arg) as [[string, unknown]];
    if (operator === 'equals-ignore-case') {
      const values = (Array.isArray(inner) ? inner : [inner]).map((x) => {
        if (typeof x !== 'string') throw new InvalidEventPatternError('anything-but equals-ignore-case takes strings');
        return x.toLowerCase();
      });
      return (v) => typeof v === 'string' && !values.includes(v.toLowerCase());
    }
    if (operator === 'prefix' || operator === 'suffix' || operator === 'wildcard') {
      const positive = leafMatcher({ [operator]: inner });
      return (v) => typeof v === 'string' && !positive(v);
    }
  }
  throw new InvalidEventPatternError('anything-but takes a value, a list of values, or {prefix|suffix|wildcard|equals-ignore-case}');
}

/** One entry of a pattern's array. `exists` is handled by the caller: it is about the field, not a value. */
function leafMatcher(entry: unknown): Matcher {
  if (isLiteral(entry)) return (v) => v === entry;
  if (!isObject(entry) || Object.keys(entry).length !== 1) throw new InvalidEventPatternError(`${JSON.stringify(entry)} is not a value or a single-operator object`);
  const [[operator, arg]] = Object.entries(entry) as [[string, unknown]];
  switch (operator) {
    case 'prefix':
      return stringMatcher('prefix', arg, (v, w) => v.startsWith(w));
    case 'suffix':
      return stringMatcher('suffix', arg, (v, w) => v.endsWith(w));
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new InvalidEventPatternError('equals-ignore-case must be a string');
      return (v) => typeof v === 'string' && v.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return wildcardMatcher(arg);
    case 'numeric':
      return numericMatcher(arg);
    case 'anything-but':
      return anythingBut(arg);
    default:
      throw new InvalidEventPatternError(`operator "${operator}" is not supported by the local event bus`);
  }
}

/** A field's array of entries → a test of the field's value (undefined when the event does not have it). */
function fieldMatcher(path: string, entries: unknown[]): (value: unknown) => boolean {
  if (entries.length === 0) throw new InvalidEventPatternError(`${path}: empty arrays match nothing`);
  const exists = entries.filter((e) => isObject(e) && 'exists' in e);
  const values = entries.filter((e) => !(isObject(e) && 'exists' in e)).map(leafMatcher);
  const existence = exists.map((e) => {
    const wanted = (e as { exists: unknown }).exists;
    if (typeof wanted !== 'boolean' || Object.keys(e as object).length !== 1) throw new InvalidEventPatternError(`${path}: exists must be true or false`);
    return wanted;
  });
  return (value) => {
    if (value === undefined) return existence.includes(false);
    if (existence.includes(true)) return true;
    const candidates = Array.isArray(value) ? value : [value];
    return candidates.some((c) => values.some((m) => m(c)));
  };
}

function compileObject(pattern: unknown, path: string): CompiledPattern {
  if (!isObject(pattern)) throw new InvalidEventPatternError(`${path || 'the pattern'} must be a JSON object`);
  const checks: CompiledPattern[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) throw new InvalidEventPatternError('$or needs an array of at least two patterns');
      const alternatives = sub.map((alt) => compileObject(alt, here));
      checks.push((event) => alternatives.some((alt) => alt(event)));
    } else if (Array.isArray(sub)) {
      const match = fieldMatcher(here, sub);
      checks.push((event) => match(isObject(event) ? event[key] : undefined));
    } else if (isObject(sub)) {
      const inner = compileObject(sub, here);
      // An array of objects matches when one of its objects does.
      checks.push((event) => {
        const value = isObject(event) ? event[key] : undefined;
        return Array.isArray(value) ? value.some((v) => inner(v)) : inner(value);
      });
    } else {
      throw new InvalidEventPatternError(`${here} must be an array of values or a nested object`);
    }
  }
  return (event) => checks.every((check) => check(event));
}

/** Check a pattern (object or JSON text) and return its test; throws InvalidEventPatternError. */
export function compilePattern(pattern: unknown): CompiledPattern {
  let value = pattern;
  if (typeof pattern === 'string') {
    try {
      value = JSON.parse(pattern) as unknown;
    } catch {
      throw new InvalidEventPatternError('the pattern is not valid JSON');
    }
  }
  if (isObject(value) && Object.keys(value).length === 0) throw new InvalidEventPatternError('an empty pattern matches nothing');
  return compileObject(value, '');
}

export function matches(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}
