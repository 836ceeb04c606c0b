/**
 * The reviewers' HTTP endpoint: turns each request into the API Gateway HTTP API (payload 2.0) event the
 * respond function receives behind API Gateway, invokes it as Lambda would, and writes its result back.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LOCAL_ACCOUNT } from './aws-ids.ts';
import { readBody } from './http.ts';

export type Invoke = (event: APIGatewayProxyEventV2) => Promise<unknown>;

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+(json|xml))/i;

function headerMap(req: IncomingMessage): { headers: Record<string, string>; cookies?: string[] } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const cookie = req.headers.cookie;
  return { headers, cookies: cookie ? cookie.split(/;\s*/).filter(Boolean) : undefined };
}

export async function toApiGatewayEvent(req: IncomingMessage, apiId = 'local'): Promise<APIGatewayProxyEventV2> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const rawQueryString = url.search.startsWith('?') ? url.search.slice(1) : '';
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const { headers, cookies } = headerMap(req);
  const body = await readBody(req);
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
  const now = new Date();
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId,
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0]!,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

interface StructuredResult {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  multiValueHeaders?: Record<string, (string | number | boolean)[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** Write a Lambda result as API Gateway would: a structured response, or any other value as JSON with 200. */
export function writeResult(res: ServerResponse, result: unknown): void {
  const structured = result !== null && typeof result === 'object' && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const r = result as StructuredResult;
  for (const [name, value] of Object.entries(r.headers ?? {})) res.setHeader(name, String(value));
  for (const [name, values] of Object.entries(r.multiValueHeaders ?? {})) res.setHeader(name, values.map(String));
  if (r.cookies?.length) res.setHeader('set-cookie', r.cookies);
  res.statusCode = r.statusCode ?? 200;
  res.end(r.body === undefined ? undefined : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8'));
}

export function createRespondServer(invoke: () => Invoke | undefined, log: (line: string) => void = () => undefined): Server {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const handler = invoke();
      if (!handler) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('The local stack is still starting');
        return;
      }
      writeResult(res, await handler(await toApiGatewayEvent(req)));
    } catch (err) {
      // What API Gateway answers when the integration fails.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
      log(`respond function failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  return createServer((req, res) => void handle(req, res));
}
