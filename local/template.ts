/**
 * Reads the synthesized CloudFormation template and resolves its intrinsic functions to local values: a
 * function's ARN becomes a local Lambda ARN, a table's Ref a local table name, the HTTP API's URL the local
 * respond server, and so on. The stack's own wiring (state machine definition, environment variables) is
 * then used as synthesized.
 */
import { LOCAL_ACCOUNT, LOCAL_REGION, eventBusArn, functionArn, stateMachineArn } from './aws-ids.ts';

export type Template = {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: unknown }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
};

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The metadata key the stack puts on each AWS::Lambda::Function: its handler's entry file. */
export const HANDLER_METADATA_KEY = 'hitl:handler';

const NO_VALUE = Symbol('AWS::NoValue');

export interface ResolverOptions {
  stackName: string;
  /** Base URL of the local respond server (no trailing slash). */
  respondUrl: string;
  /** Put before every table's name, so several stacks can share one DynamoDB (tests). @default '' */
  tablePrefix?: string;
}

export class TemplateResolver {
  readonly stackName: string;
  private readonly respondUrl: string;
  private readonly tablePrefix: string;

  constructor(
    readonly template: Template,
    options: ResolverOptions,
  ) {
    this.stackName = options.stackName;
    this.respondUrl = options.respondUrl;
    this.tablePrefix = options.tablePrefix ?? '';
  }

  resourcesOfType(type: string): [string, Resource][] {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type);
  }

  // ---- local names of resources -------------------------------------------------------------------

  tableName(logicalId: string): string {
    const explicit = this.template.Resources[logicalId]?.Properties?.TableName;
    return `${this.tablePrefix}${typeof explicit === 'string' ? explicit : `${this.stackName}-${logicalId}`}`;
  }

  stateMachineName(logicalId: string): string {
    const explicit = this.template.Resources[logicalId]?.Properties?.StateMachineName;
    return typeof explicit === 'string' ? explicit : `${this.stackName}-${logicalId}`;
  }

  secretName(logicalId: string): string {
    const explicit = this.template.Resources[logicalId]?.Properties?.Name;
    return typeof explicit === 'string' ? explicit : `${this.stackName}-${logicalId}`;
  }

  secretArn(logicalId: string): string {
    return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${this.secretName(logicalId)}-000000`;
  }

  eventBusName(logicalId: string): string {
    return this.namedOr(logicalId, 'Name');
  }

  eventRuleName(logicalId: string): string {
    return this.namedOr(logicalId, 'Name');
  }

  private queueName(logicalId: string): string {
    const explicit = this.template.Resources[logicalId]?.Properties?.QueueName;
    return typeof explicit === 'string' ? explicit : `${this.stackName}-${logicalId}`;
  }

  private namedOr(logicalId: string, property: string): string {
    const explicit = this.template.Resources[logicalId]?.Properties?.[property];
    return typeof explicit === 'string' ? explicit : `${this.stackName}-${logicalId}`;
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        break;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default ?? '';
    const resource = this.template.Resources[name];
    if (!resource) throw new TemplateError(`Ref to ${name}, which the template does not define`);
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.tableName(name);
      case 'AWS::Lambda::Function':
        return name;
      case 'AWS::SecretsManager::Secret':
        return this.secretArn(name);
      case 'AWS::StepFunctions::StateMachine':
        return stateMachineArn(this.stateMachineName(name));
      case 'AWS::Scheduler::ScheduleGroup':
        return this.namedOr(name, 'Name');
      case 'AWS::SQS::Queue':
        return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${this.queueName(name)}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${this.namedOr(name, 'TopicName')}`;
      case 'AWS::ApiGatewayV2::Api':
        return name.toLowerCase();
      case 'AWS::Events::EventBus':
        return this.eventBusName(name);
      case 'AWS::Events::Rule':
        return this.eventRuleName(name);
      default:
        return name;
    }
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateError(`Fn::GetAtt on ${logicalId}, which the template does not define`);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::Lambda::Function.Arn':
        return functionArn(logicalId);
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${this.tableName(logicalId)}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${this.namedOr(logicalId, 'RoleName')}`;
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${this.queueName(logicalId)}`;
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(logicalId);
      case 'AWS::Scheduler::ScheduleGroup.Arn':
        return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule-group/${this.namedOr(logicalId, 'Name')}`;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return stateMachineArn(this.stateMachineName(logicalId));
      case 'AWS::StepFunctions::StateMachine.Name':
        return this.stateMachineName(logicalId);
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return this.respondUrl;
      case 'AWS::Lambda::Url.FunctionUrl':
        return `${this.respondUrl}/`;
      case 'AWS::Events::EventBus.Arn':
        return eventBusArn(this.eventBusName(logicalId));
      case 'AWS::Events::EventBus.Name':
        return this.eventBusName(logicalId);
      case 'AWS::Events::Rule.Arn':
        return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${this.eventRuleName(logicalId)}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${logicalId}:*`;
      default:
        return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}/${attribute}`;
    }
  }

  private sub(text: string, vars: Record<string, unknown>): string {
    return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return String(this.resolve(vars[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && this.template.Resources[name.slice(0, dot)]) return String(this.getAtt(name.slice(0, dot), name.slice(dot + 1)));
      return String(this.ref(name));
    });
  }

  private condition(name: string): boolean {
    const expression = this.template.Conditions?.[name];
    if (expression === undefined) throw new TemplateError(`Condition ${name} is not defined`);
    return Boolean(this.resolve(expression));
  }

  /** Resolve every intrinsic function in `value`; strings that name the HTTP API's URL point at the respond server. */
  resolve(value: unknown): unknown {
    const out = this.resolveRaw(value);
    return out === NO_VALUE ? undefined : out;
  }

  private resolveRaw(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolveRaw(v)).filter((v) => v !== NO_VALUE);
    if (typeof value === 'string') return this.localUrl(value);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.+)/);
          return this.getAtt(String(id), String(attr));
        }
        case 'Fn::Join': {
          const [delimiter, parts] = arg as [string, unknown[]];
          const items = this.resolveRaw(parts) as unknown[];
          return this.localUrl(items.map(String).join(delimiter));
        }
        case 'Fn::Sub': {
          const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
          return this.localUrl(this.sub(text, vars));
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolveRaw(list) as unknown[])[Number(this.resolveRaw(index))];
        }
        case 'Fn::Split': {
          const [delimiter, text] = arg as [string, unknown];
          return String(this.resolveRaw(text)).split(delimiter);
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, unknown, unknown];
          return this.resolveRaw(this.condition(cond) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = arg as [unknown, unknown];
          return JSON.stringify(this.resolveRaw(a)) === JSON.stringify(this.resolveRaw(b));
        }
        case 'Fn::Not':
          return !this.resolveRaw((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => this.resolveRaw(c));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => this.resolveRaw(c));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::FindInMap': {
          const [map, top, second] = (arg as unknown[]).map((v) => String(this.resolveRaw(v)));
          return this.template.Mappings?.[map!]?.[top!]?.[second!];
        }
        case 'Fn::GetAZs':
          return [`${LOCAL_REGION}a`, `${LOCAL_REGION}b`, `${LOCAL_REGION}c`];
        case 'Fn::Base64':
          return Buffer.from(String(this.resolveRaw(arg))).toString('base64');
        case 'Fn::ToJsonString':
          return JSON.stringify(this.resolveRaw(arg));
        case 'Fn::ImportValue':
          throw new TemplateError('Fn::ImportValue (a cross-stack reference) cannot be resolved by the local stack');
        default:
          break;
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolveRaw(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com` of one of the template's HTTP APIs → the respond server. */
  private localUrl(text: string): string {
    return text.replace(/https:\/\/([a-z0-9-]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/g, (whole, id: string) =>
      this.template.Resources[Object.keys(this.template.Resources).find((k) => k.toLowerCase() === id) ?? '']?.Type === 'AWS::ApiGatewayV2::Api' ? this.respondUrl : whole,
    );
  }
}
