// Entry of a stand-in's worker thread (see server-thread.ts): TypeScript is loaded through tsx here, since a
// worker does not share its parent's loaders (the parent may be tsx, vitest or plain node).
import { register } from 'tsx/esm/api';

register();
await import('./server-thread-main.ts');
