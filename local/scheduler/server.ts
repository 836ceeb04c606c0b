/**
 * The EventBridge Scheduler API over HTTP (REST-JSON, as the SDKs and awscli speak it):
 * POST/PUT/GET/DELETE /schedules/{Name}?groupName=…, GET /schedules, GET /schedule-groups. Dates are epoch seconds.
 * A change is answered once the engine has it on disk.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http.ts';
import { SchedulerApiError, type Schedule, type ScheduleInput, type SchedulerEngine } from './engine.ts';

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function describe(s: Schedule): Record<string, unknown> {
  return { ...s, StartDate: seconds(s.StartDate), EndDate: seconds(s.EndDate), CreationDate: seconds(s.CreationDate), LastModificationDate: seconds(s.LastModificationDate) };
}

function summary(s: Schedule): Record<string, unknown> {
  return {
    Arn: s.Arn,
    Name: s.Name,
    GroupName: s.GroupName,
    State: s.State,
    CreationDate: seconds(s.CreationDate),
    LastModificationDate: seconds(s.LastModificationDate),
    Target: { Arn: s.Target.Arn },
  };
}

function toInput(name: string, body: Record<string, unknown>): ScheduleInput {
  const date = (v: unknown) => (typeof v === 'number' ? v * 1000 : undefined);
  return { ...(body as ScheduleInput), Name: name, StartDate: date(body.StartDate), EndDate: date(body.EndDate) };
}

export function createSchedulerServer(engine: SchedulerEngine): Server {
  async function route(req: IncomingMessage): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    if (parts[0] === 'schedule-groups' && parts.length === 1 && req.method === 'GET') {
      return { ScheduleGroups: engine.listGroups().map((Name) => ({ Name, State: 'ACTIVE' })) };
    }
    if (parts[0] !== 'schedules' || parts.length > 2) throw new SchedulerApiError('ResourceNotFoundException', `No such resource: ${url.pathname}`);
    if (parts.length === 1) {
      if (req.method !== 'GET') throw new SchedulerApiError('ValidationException', `${req.method} /schedules is not an operation`);
      const max = q.get('MaxResults');
      const out = engine.listSchedules({
        GroupName: q.get('ScheduleGroup') ?? undefined,
        NamePrefix: q.get('NamePrefix') ?? undefined,
        State: q.get('State') ?? undefined,
        MaxResults: max === null ? undefined : Number(max),
        NextToken: q.get('NextToken') ?? undefined,
      });
      return { Schedules: out.Schedules.map(summary), NextToken: out.NextToken };
    }
    const name = parts[1]!;
    switch (req.method) {
      case 'POST':
      case 'PUT': {
        const raw = (await readBody(req)).toString('utf8');
        let body: Record<string, unknown>;
        try {
          body = raw.trim() === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
        } catch {
          throw new SchedulerApiError('ValidationException', 'The request body is not valid JSON');
        }
        const input = toInput(name, body);
        const out = req.method === 'POST' ? engine.createSchedule(input) : engine.updateSchedule(input);
        await engine.durable();
        return out;
      }
      case 'GET':
        return describe(engine.getSchedule(name, q.get('groupName') ?? undefined));
      case 'DELETE':
        engine.deleteSchedule(name, q.get('groupName') ?? undefined);
        await engine.durable();
        return {};
      default:
        throw new SchedulerApiError('ValidationException', `${req.method} is not supported`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await route(req));
    } catch (err) {
      const error = err instanceof SchedulerApiError ? err : new SchedulerApiError('InternalServerException', err instanceof Error ? err.message : String(err));
      sendJson(res, error.status, { Message: error.message }, 'application/json', { 'x-amzn-errortype': error.type });
    }
  }

  return createServer((req, res) => void handle(req, res));
}
