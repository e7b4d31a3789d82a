import type { FetchStack } from './fetch-stack.js';
import type { RuntimeOptions } from './runtime.js';

/** A fetch stack opened on first call, and a close for it that does nothing when it never was. */
export function lazyFetchStack(options: RuntimeOptions): { get: () => Promise<FetchStack>; close: () => Promise<void> } {
  let stack: Promise<FetchStack> | null = null;
  return {
    get: () =>
      (stack ??= import('./fetch-stack.js').then(({ openFetchStack }) =>
        openFetchStack({
          clock: options.clock,
          allowPrivateNetwork: options.allowPrivateNetwork === true,
          ...options.fetchDeadlines?.(),
        }),
      )),
    close: async () => {
      if (stack) await (await stack).close();
    },
  };
}
