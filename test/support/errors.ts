/** The name of the error a promise rejects with, or 'no error': for asserting AWS-style error names. */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}
