#!/usr/bin/env node
// The `hitl` command: runs the TypeScript CLI (local/cli.ts) through tsx, straight from a checkout.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
