/**
 * What a rule's target receives: the event, or per the target's `Input`, `InputPath` or `InputTransformer`
 * (paths of the form `$.detail.status` or `$.resources[0]`).
 */
import type { EventTarget } from '../resources.ts';
import type { BusEvent } from './event.ts';

/** The value at a simple JSONPath (`$`, `$.a.b`, `$.a[0]`); undefined when absent. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$')) return undefined;
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)];
  let current = value;
  for (const [, name, index, quoted] of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = index !== undefined ? (current as unknown[])[Number(index)] : (current as Record<string, unknown>)[name ?? quoted!];
  }
  return current;
}

/**
 * Fill an InputTemplate: `<name>` inside a JSON string takes the value's text, outside one its JSON. The
 * reserved `<aws.events.rule-name>`, `<aws.events.event>` and `<aws.events.event.json>` are filled too.
 */
export function fillTemplate(template: string, values: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const close = c === '<' ? template.indexOf('>', i) : -1;
    const name = close > i ? template.slice(i + 1, close) : undefined;
    if (name === undefined || !(name in values)) {
      out += c;
      continue;
    }
    const value = values[name];
    if (inString) out += typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value ?? null).replace(/"/g, '\\"');
    else out += JSON.stringify(value ?? null);
    i = close;
  }
  return out;
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function targetInput(target: EventTarget, event: BusEvent, ruleName: string): unknown {
  if (target.input !== undefined) return parsedOrText(target.input);
  if (target.inputPath !== undefined) return valueAt(event, target.inputPath) ?? null;
  if (target.inputTransformer) {
    const values: Record<string, unknown> = { 'aws.events.rule-name': ruleName, 'aws.events.event': event, 'aws.events.event.json': event };
    for (const [name, path] of Object.entries(target.inputTransformer.pathsMap)) values[name] = valueAt(event, path);
    return parsedOrText(fillTemplate(target.inputTransformer.template, values));
  }
  return event;
}
