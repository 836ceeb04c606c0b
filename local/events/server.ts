/**
 * The EventBridge API over HTTP, JSON 1.1 (`X-Amz-Target: AWSEvents.<Operation>`): PutEvents, TestEventPattern,
 * ListEventBuses, ListRules and ListTargetsByRule. PutEvents answers once its accepted events are on disk.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { eventBusArn, eventBusNameOf } from '../aws-ids.ts';
import { readBody, sendJson } from '../http.ts';
import { EventBusError, type EventBus, type PutEventsEntry } from './bus.ts';
import { InvalidEventPatternError, compilePattern } from './pattern.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSEvents.';

type Body = Record<string, unknown>;

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function busOf(bus: EventBus, body: Body): string {
  const name = eventBusNameOf(typeof body.EventBusName === 'string' ? body.EventBusName : 'default');
  if (!bus.busNames().includes(name)) throw new ApiError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
  return name;
}

export function createEventsServer(bus: EventBus): Server {
  const operations: Record<string, (body: Body) => Promise<Body> | Body> = {
    PutEvents: async (b) => {
      const entries = bus.putEvents(b.Entries as PutEventsEntry[]);
      await bus.durable();
      return { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries };
    },
    TestEventPattern: (b) => {
      if (typeof b.Event !== 'string') throw new ApiError('ValidationException', 'Event is required');
      let event: unknown;
      try {
        event = JSON.parse(b.Event);
      } catch {
        throw new ApiError('InvalidEventPatternException', 'Event is not valid JSON');
      }
      return { Result: compilePattern(b.EventPattern)(event) };
    },
    ListEventBuses: () => ({ EventBuses: bus.busNames().map((Name) => ({ Name, Arn: eventBusArn(Name) })) }),
    ListRules: (b) => {
      const name = busOf(bus, b);
      const prefix = typeof b.NamePrefix === 'string' ? b.NamePrefix : '';
      return { Rules: bus.ruleList(name).filter((r) => r.name.startsWith(prefix)).map((r) => ({ Name: r.name, EventBusName: name, State: 'ENABLED' })) };
    },
    ListTargetsByRule: (b) => {
      const rule = bus.ruleList(busOf(bus, b)).find((r) => r.name === b.Rule);
      if (!rule) throw new ApiError('ResourceNotFoundException', `Rule ${String(b.Rule)} does not exist on EventBus ${busOf(bus, b)}.`);
      return { Targets: rule.routes.map((r) => ({ Id: r.target.id, Arn: r.target.arn, Input: r.target.input, InputPath: r.target.inputPath })) };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target.slice(TARGET_PREFIX.length)];
      if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX) || !operation) {
        throw new ApiError('UnknownOperationException', `The local EventBridge supports ${Object.keys(operations).join(', ')}, not ${target || req.method}`);
      }
      const raw = (await readBody(req)).toString('utf8');
      let body: Body;
      try {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Body);
      } catch {
        throw new ApiError('SerializationException', 'The request body is not valid JSON');
      }
      sendJson(res, 200, await operation(body), CONTENT_TYPE);
    } catch (err) {
      const error =
        err instanceof ApiError
          ? err
          : err instanceof EventBusError || err instanceof InvalidEventPatternError
            ? new ApiError(err.name, err.message)
            : new ApiError('InternalException', err instanceof Error ? err.message : String(err), 500);
      sendJson(res, error.status, { __type: error.type, message: error.message }, CONTENT_TYPE, { 'x-amzn-errortype': error.type });
    }
  }

  return createServer((req, res) => void handle(req, res));
}
