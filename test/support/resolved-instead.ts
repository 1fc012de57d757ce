/** For `promise.then(resolvedInstead, (e: unknown) => e as Error)`: what a promise that should
 * reject rejects with, typed as the error alone; one that resolves fails the test. */
export function resolvedInstead(): never {
  throw new Error('expected the promise to reject, but it resolved');
}
