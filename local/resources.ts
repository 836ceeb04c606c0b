/**
 * What the local stack runs, read from the resolved template: the functions and their handlers, the tables,
 * the state machines, secrets, schedule groups, recurring schedules, event buses and event rules.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { eventBusNameOf, stateMachineArn } from './aws-ids.ts';
import type { LocalForward } from './events/forwards.ts';
import type { JsonObject } from './sfn/definition.ts';
import { HANDLER_METADATA_KEY, TemplateError, type TemplateResolver } from './template.ts';

export interface FunctionResource {
  logicalId: string;
  /** Entry file relative to the repository root, e.g. `functions/route.ts`. */
  handlerFile: string;
  /** The export named by the function's Handler (`index.handler` → `handler`). */
  exportName: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface TableResource {
  logicalId: string;
  name: string;
  create: CreateTableCommandInput;
}

export interface StateMachineResource {
  logicalId: string;
  name: string;
  arn: string;
  roleArn: string;
  definition: JsonObject;
}

export interface RecurringSchedule {
  name: string;
  expression: string;
  targetArn: string;
  input?: string;
  maxRetries?: number;
}

/** A target of an event rule, as AWS::Events::Rule's Targets describe it. */
export interface EventTarget {
  id: string;
  arn: string;
  /** Constant JSON text sent instead of the event. */
  input?: string;
  /** The part of the event sent, e.g. `$.detail`. */
  inputPath?: string;
  inputTransformer?: { pathsMap: Record<string, string>; template: string };
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
  /** A local-only target (an HTTP URL or a JSON Lines file) instead of a function; see local/events/forwards.ts. */
  forward?: LocalForward;
}

/** An AWS::Events::Rule with an EventPattern (rules with only a ScheduleExpression are recurring schedules). */
export interface EventRuleResource {
  logicalId: string;
  name: string;
  /** The event bus's name; `default` unless the rule names another. */
  busName: string;
  pattern: unknown;
  enabled: boolean;
  targets: EventTarget[];
}

export interface StackResources {
  functions: FunctionResource[];
  tables: TableResource[];
  stateMachines: StateMachineResource[];
  secrets: { logicalId: string; name: string; arn: string }[];
  scheduleGroups: string[];
  recurringSchedules: RecurringSchedule[];
  /** Names of the template's AWS::Events::EventBus resources (the default bus always exists). */
  eventBuses: string[];
  eventRules: EventRuleResource[];
}

function props(resolver: TemplateResolver, logicalId: string): Record<string, unknown> {
  return (resolver.resolve(resolver.template.Resources[logicalId]!.Properties ?? {}) ?? {}) as Record<string, unknown>;
}

function tableInput(name: string, p: Record<string, unknown>): CreateTableCommandInput {
  const indexes = (p.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map((i) => ({
    IndexName: i.IndexName as string,
    KeySchema: i.KeySchema as never,
    Projection: i.Projection as never,
    ...(p.BillingMode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: (i.ProvisionedThroughput ?? { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }) as never }),
  }));
  const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
  const locals = (p.LocalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map((i) => ({
    IndexName: i.IndexName as string,
    KeySchema: i.KeySchema as never,
    Projection: i.Projection as never,
  }));
  return {
    TableName: name,
    AttributeDefinitions: p.AttributeDefinitions as never,
    KeySchema: p.KeySchema as never,
    BillingMode: p.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...(p.BillingMode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: (p.ProvisionedThroughput ?? { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }) as never }),
    ...(indexes?.length ? { GlobalSecondaryIndexes: indexes } : {}),
    ...(locals?.length ? { LocalSecondaryIndexes: locals } : {}),
    ...(stream?.StreamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as never } } : {}),
  };
}

function definitionOf(p: Record<string, unknown>, logicalId: string): JsonObject {
  let text: string;
  if (typeof p.DefinitionString === 'string') text = p.DefinitionString;
  else if (p.Definition && typeof p.Definition === 'object') text = JSON.stringify(p.Definition);
  else throw new TemplateError(`State machine ${logicalId} has no DefinitionString or Definition the local stack can read (DefinitionS3Location is not supported)`);
  const substitutions = (p.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  text = text.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key in substitutions ? String(substitutions[key]) : whole));
  try {
    return JSON.parse(text) as JsonObject;
  } catch (err) {
    throw new TemplateError(`State machine ${logicalId}: the definition is not JSON after resolving (${(err as Error).message})`);
  }
}

function eventTarget(t: Record<string, unknown>): EventTarget {
  const transformer = t.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate?: string } | undefined;
  const retry = t.RetryPolicy as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number } | undefined;
  return {
    id: String(t.Id ?? 'Target0'),
    arn: String(t.Arn),
    input: typeof t.Input === 'string' ? t.Input : undefined,
    inputPath: typeof t.InputPath === 'string' ? t.InputPath : undefined,
    inputTransformer: transformer?.InputTemplate === undefined ? undefined : { pathsMap: transformer.InputPathsMap ?? {}, template: transformer.InputTemplate },
    retryPolicy: retry && { maximumRetryAttempts: retry.MaximumRetryAttempts, maximumEventAgeInSeconds: retry.MaximumEventAgeInSeconds },
    deadLetterArn: (t.DeadLetterConfig as { Arn?: string } | undefined)?.Arn,
  };
}

export function readStackResources(resolver: TemplateResolver): StackResources {
  const functions = resolver.resourcesOfType('AWS::Lambda::Function').flatMap(([logicalId, resource]) => {
    const handlerFile = resource.Metadata?.[HANDLER_METADATA_KEY];
    if (typeof handlerFile !== 'string') return [];
    const p = props(resolver, logicalId);
    const handler = typeof p.Handler === 'string' ? p.Handler : 'index.handler';
    const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    return [
      {
        logicalId,
        handlerFile,
        exportName: handler.includes('.') ? handler.slice(handler.lastIndexOf('.') + 1) : 'handler',
        env: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
        timeoutSeconds: typeof p.Timeout === 'number' ? p.Timeout : 3,
        memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
      },
    ];
  });

  const tables = resolver.resourcesOfType('AWS::DynamoDB::Table').map(([logicalId]) => {
    const name = resolver.tableName(logicalId);
    return { logicalId, name, create: tableInput(name, props(resolver, logicalId)) };
  });

  const stateMachines = resolver.resourcesOfType('AWS::StepFunctions::StateMachine').map(([logicalId]) => {
    const p = props(resolver, logicalId);
    const name = resolver.stateMachineName(logicalId);
    return { logicalId, name, arn: stateMachineArn(name), roleArn: String(p.RoleArn ?? ''), definition: definitionOf(p, logicalId) };
  });

  const secrets = resolver.resourcesOfType('AWS::SecretsManager::Secret').map(([logicalId]) => ({
    logicalId,
    name: resolver.secretName(logicalId),
    arn: resolver.secretArn(logicalId),
  }));

  const scheduleGroups = resolver.resourcesOfType('AWS::Scheduler::ScheduleGroup').map(([logicalId]) => String(props(resolver, logicalId).Name ?? logicalId));

  const recurringSchedules: RecurringSchedule[] = [];
  for (const [logicalId] of resolver.resourcesOfType('AWS::Events::Rule')) {
    const p = props(resolver, logicalId);
    if (typeof p.ScheduleExpression !== 'string' || p.State === 'DISABLED') continue;
    for (const target of (p.Targets as Record<string, unknown>[] | undefined) ?? []) {
      recurringSchedules.push({
        name: `${logicalId}-${String(target.Id ?? 'Target')}`,
        expression: p.ScheduleExpression,
        targetArn: String(target.Arn),
        input: typeof target.Input === 'string' ? target.Input : undefined,
        maxRetries: (target.RetryPolicy as { MaximumRetryAttempts?: number } | undefined)?.MaximumRetryAttempts,
      });
    }
  }
  for (const [logicalId] of resolver.resourcesOfType('AWS::Scheduler::Schedule')) {
    const p = props(resolver, logicalId);
    const target = (p.Target ?? {}) as Record<string, unknown>;
    if (typeof p.ScheduleExpression !== 'string' || p.State === 'DISABLED') continue;
    recurringSchedules.push({
      name: String(p.Name ?? logicalId),
      expression: p.ScheduleExpression,
      targetArn: String(target.Arn),
      input: typeof target.Input === 'string' ? target.Input : undefined,
      maxRetries: (target.RetryPolicy as { MaximumRetryAttempts?: number } | undefined)?.MaximumRetryAttempts,
    });
  }

  const eventBuses = resolver.resourcesOfType('AWS::Events::EventBus').map(([logicalId]) => resolver.eventBusName(logicalId));
  const eventRules = resolver.resourcesOfType('AWS::Events::Rule').flatMap(([logicalId]) => {
    const p = props(resolver, logicalId);
    if (p.EventPattern === undefined) return [];
    return [
      {
        logicalId,
        name: resolver.eventRuleName(logicalId),
        busName: eventBusNameOf(typeof p.EventBusName === 'string' ? p.EventBusName : 'default'),
        pattern: p.EventPattern,
        enabled: p.State !== 'DISABLED',
        targets: ((p.Targets as Record<string, unknown>[] | undefined) ?? []).map(eventTarget),
      },
    ];
  });

  return { functions, tables, stateMachines, secrets, scheduleGroups, recurringSchedules, eventBuses, eventRules };
}
