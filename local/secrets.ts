/**
 * Secrets Manager stand-in: GetSecretValue and DescribeSecret (JSON 1.1, `X-Amz-Target: secretsmanager.<Op>`).
 * The template's secrets are served from files under the state directory; the link-signing key ring is
 * generated on first start as `{"current":"k1","k1":"<random>"}`, the webhook signing secret as 48 base64 characters. The file is read on every call, so editing
 * it (adding a key, switching `current`) is a key rotation.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, sendJson } from './http.ts';
import { FILE_MODE, readJsonFile, setAside, writeJsonFile, type Warn } from './json-file.ts';

export interface LocalSecret {
  name: string;
  arn: string;
  /** File holding the SecretString. */
  file: string;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

function isKeyRing(value: unknown): boolean {
  const ring = value as Record<string, unknown> | null;
  return typeof ring?.current === 'string' && typeof ring[ring.current] === 'string';
}

/**
 * A key ring with one 64-character key, the shape the stack's secret is generated with. One that cannot be
 * read is set aside and a new one generated: the stack starts, and links signed with the old keys stop working.
 */
export function ensureKeyRing(file: string, warn: Warn): void {
  if (existsSync(file)) {
    const ring = readJsonFile<unknown>(file, undefined, warn);
    if (isKeyRing(ring)) {
      // A key ring from before files were created private.
      chmodSync(file, FILE_MODE);
      return;
    }
    if (ring !== undefined) warn(`${file} is not a key ring ({"current":"k1","k1":"…"}); set aside as ${setAside(file)}`);
    warn('generated a new signing key: review links in emails sent before no longer verify');
  }
  const key = randomBytes(48).toString('base64url').slice(0, 64);
  writeJsonFile(file, { current: 'k1', k1: key });
}

/** The decision webhooks' signing secret: 48 characters of base64 (a 36-byte key), generated on first start. */
export function ensureWebhookSecret(file: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8').trim() !== '') {
    chmodSync(file, FILE_MODE);
    return;
  }
  writeFileSync(file, `${randomBytes(36).toString('base64')}\n`, { mode: FILE_MODE });
}

class SecretsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export function createSecretsServer(secrets: readonly LocalSecret[]): Server {
  function find(id: unknown): LocalSecret {
    // A full ARN, a partial ARN (without the random suffix) or the name.
    const secret = secrets.find((s) => s.arn === id || s.name === id || s.arn.slice(0, -7) === id);
    if (!secret) throw new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GetSecretValue: (body) => {
      const secret = find(body.SecretId);
      const stat = statSync(secret.file);
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: readFileSync(secret.file, 'utf8').trim(),
        VersionId: `local-${Math.floor(stat.mtimeMs)}`,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: stat.mtimeMs / 1000,
      };
    },
    DescribeSecret: (body) => {
      const secret = find(body.SecretId);
      return { ARN: secret.arn, Name: secret.name, LastChangedDate: statSync(secret.file).mtimeMs / 1000 };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target.replace(/^secretsmanager\./, '')];
      if (req.method !== 'POST' || !target.startsWith('secretsmanager.') || !operation) {
        throw new SecretsError('UnknownOperationException', `The local Secrets Manager supports GetSecretValue and DescribeSecret, not ${target || req.method}`);
      }
      const raw = (await readBody(req)).toString('utf8');
      sendJson(res, 200, operation(raw ? (JSON.parse(raw) as Record<string, unknown>) : {}), CONTENT_TYPE);
    } catch (err) {
      const type = err instanceof SecretsError ? err.type : 'InternalServiceError';
      sendJson(res, type === 'InternalServiceError' ? 500 : 400, { __type: type, message: (err as Error).message }, CONTENT_TYPE);
    }
  }

  return createServer((req, res) => void handle(req, res));
}
