/**
 * Stands in for `@aws-sdk/credential-provider-node` in the deployed bundles (an esbuild alias in
 * infra/constructs/handler-function.ts). Lambda always hands a function its role's credentials in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, the first link of the SDK's default chain;
 * the rest of that chain (profiles, SSO, STS web identity, the instance metadata service) never runs there
 * and would add a fifth to every bundle. Tests and the local stack run the sources and keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
