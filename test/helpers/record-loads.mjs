// Preloaded with `node --import` by the start-up test: appends every module
// the process loads (ES modules through a resolve hook, CommonJS through
// Module._load) to the file named by REVWATCH_LOAD_LOG, one specifier a line.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.REVWATCH_LOAD_LOG;
if (log) {
  const hook = `
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(${JSON.stringify(log)}, specifier + ' ' + result.url + '\\n');
      return result;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const load = Module._load;
  Module._load = function (request, ...rest) {
    appendFileSync(log, `${request} (require)\n`);
    return load.call(this, request, ...rest);
  };
}
