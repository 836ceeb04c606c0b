/**
 * Where the state machine is and how to reach it: explicit options, then `HITL_STATE_MACHINE_ARN` with the
 * usual AWS configuration (credentials, region, `AWS_ENDPOINT_URL_SFN`), then the local stack's endpoints
 * file `.hitl/local.json` (found from `HITL_LOCAL_FILE` or by walking up from the working directory).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';

export interface HitlOptions {
  /** The review state machine (the stack output `StateMachineArn`). @default - HITL_STATE_MACHINE_ARN, else the local stack's */
  stateMachineArn?: string;
  /** A Step Functions client of your own. @default - one from the usual AWS configuration, or the local stack's */
  sfn?: SFNClient;
  /** The local stack's endpoints file, or false to ignore it. @default - HITL_LOCAL_FILE, else `.hitl/local.json` above the working directory */
  localFile?: string | false;
  /** First and longest pause between DescribeExecution polls, in ms. @default { min: 250, max: 5000 } */
  poll?: { min?: number; max?: number };
}

interface LocalFile {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoints: { sfn: string };
  stateMachineArn: string;
}

export interface ResolvedConfig {
  stateMachineArn: string;
  sfn: SFNClient;
}

export class HitlConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HitlConfigError';
  }
}

function findLocalFile(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, '.hitl', 'local.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function readLocalFile(path: string): LocalFile {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LocalFile>;
  if (!parsed.stateMachineArn || !parsed.endpoints?.sfn) throw new HitlConfigError(`${path} is not a hitl local stack endpoints file (no stateMachineArn or endpoints.sfn)`);
  return parsed as LocalFile;
}

export function resolveConfig(options: HitlOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const arn = options.stateMachineArn ?? env.HITL_STATE_MACHINE_ARN;
  if (arn && !options.localFile) return { stateMachineArn: arn, sfn: options.sfn ?? new SFNClient({}) };
  const path = options.localFile === false ? undefined : (options.localFile ?? env.HITL_LOCAL_FILE ?? findLocalFile(process.cwd()));
  if (!path) {
    throw new HitlConfigError('No hitl state machine: pass stateMachineArn, set HITL_STATE_MACHINE_ARN (the stack output StateMachineArn), or run the local stack (npm start) so .hitl/local.json exists');
  }
  const local = readLocalFile(path);
  return {
    stateMachineArn: arn ?? local.stateMachineArn,
    sfn: options.sfn ?? new SFNClient({ region: local.region, endpoint: local.endpoints.sfn, credentials: local.credentials }),
  };
}
