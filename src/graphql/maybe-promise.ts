export type MaybePromise<T> = T | Promise<T>;

/** `then` without a promise when the value is already there: cache hits resolve in the same tick. */
export function mapMaybe<T, R>(value: MaybePromise<T>, fn: (v: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}
