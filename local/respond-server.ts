/**
 * The reviewers' HTTP endpoint: turns each request into the API Gateway HTTP API (payload 2.0) event the
 * respond function receives behind API Gateway, invokes it as Lambda would, and writes its result back.
 * When the stack has the in-app API, its routes (`/v1/…`) are served on the same port behind an emulated
 * JWT authorizer: a missing or invalid token gets 401 before the function runs, a valid one's claims are
 * put in `requestContext.authorizer.jwt` as API Gateway puts them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LOCAL_ACCOUNT } from './aws-ids.ts';
import { readBody } from './http.ts';
import type { Authorize } from './in-app-issuer.ts';

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

/** An HTTP API whose routes all carry a JWT authorizer (the in-app API). */
export interface JwtApi {
  /** Route keys as the template has them, e.g. `GET /v1/requests/{requestId}`. */
  routeKeys: string[];
  invoke: Invoke;
  authorize: Authorize;
}

interface Route {
  key: string;
  method: string;
  pattern: RegExp;
  params: string[];
}

function routesOf(keys: string[]): Route[] {
  return keys.map((key) => {
    const [method, path] = key.split(' ') as [string, string];
    const params: string[] = [];
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
      params.push(name);
      return '([^/]+)';
    });
    return { key, method, pattern: new RegExp(`^${source}$`), params };
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The JWT API's part of a request: its route, or a reply already sent (404, 401). Undefined: not its path. */
async function jwtRoute(req: IncomingMessage, res: ServerResponse, api: JwtApi, prefixes: string[]): Promise<APIGatewayProxyEventV2 | 'answered' | undefined> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (!prefixes.some((p) => path.startsWith(p))) return undefined;
  const method = req.method ?? 'GET';
  const route = routesOf(api.routeKeys).find((r) => r.method === method && r.pattern.test(path));
  if (!route) {
    json(res, 404, { message: 'Not Found' });
    return 'answered';
  }
  const auth = await api.authorize(req.headers.authorization);
  if (!auth) {
    json(res, 401, { message: 'Unauthorized' });
    return 'answered';
  }
  const event = await toApiGatewayEvent(req);
  const values = route.pattern.exec(path)!.slice(1);
  event.routeKey = route.key;
  event.requestContext.routeKey = route.key;
  event.pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(values[i]!)]));
  (event.requestContext as { authorizer?: unknown }).authorizer = { jwt: { claims: auth.claims, scopes: auth.scopes } };
  return event;
}

export function createRespondServer(invoke: () => Invoke | undefined, log: (line: string) => void = () => undefined, jwtApi: () => JwtApi | undefined = () => undefined): Server {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const api = jwtApi();
      if (api) {
        const prefixes = [...new Set(api.routeKeys.map((k) => `/${(k.split(' ')[1] ?? '').split('/')[1] ?? ''}/`))];
        const routed = await jwtRoute(req, res, api, prefixes);
        if (routed === 'answered') return;
        if (routed) {
          writeResult(res, await api.invoke(routed));
          return;
        }
      }
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
