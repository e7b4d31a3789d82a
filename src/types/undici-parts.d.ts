/**
 * undici's own modules, imported one by one (src/adapters/net/http-fetcher.ts):
 * its index is CommonJS that requires everything (fetch, WebSocket, caches,
 * mocks), which a bundler cannot shake, and doubles a Lambda bundle. Typed
 * from the package's own declarations.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/core/connect.js' {
  import { buildConnector } from 'undici';
  export default buildConnector;
}
declare module 'undici/lib/core/errors.js' {
  import { errors } from 'undici';
  export default errors;
}
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** Dispatcher.prototype.request, called with the agent as `this`. */
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
