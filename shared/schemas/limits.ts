/** Bounds on what an agent may send, shared by the request schema and the deployment config. */

/** The cap on `limits.maxRequestBytes`: a request, its Decision and history stay under DynamoDB's 400 KB item. */
export const MAX_REQUEST_BYTES = 65536;
