// Entry of the DynamoDB worker thread (see dynamodb-worker.ts): TypeScript is loaded through tsx here, since
// a worker does not share its parent's loaders (the parent may be tsx, vitest or plain node).
import { register } from 'tsx/esm/api';

register();
await import('./dynamodb-thread-main.ts');
