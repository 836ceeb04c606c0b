/**
 * One DynamoDB Local (AWS's engine, in memory) for a whole test run: a vitest globalSetup starts it and hands
 * its endpoint to the test files, which keep apart by table names of their own (startDynamo, startTestStack).
 * A JVM per test file would cost seconds of start-up each.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDynamoLocal } from '#local/dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = await startDynamoLocal({ port: 0 });
  project.provide('dynamodbEndpoint', engine.endpoint);
  return () => engine.stop();
}

/** The run's DynamoDB Local. */
export function sharedDynamoEndpoint(): string {
  return inject('dynamodbEndpoint');
}

/** A prefix for table names no other test uses. */
export function uniqueTablePrefix(): string {
  return `t${randomBytes(4).toString('hex')}-`;
}
