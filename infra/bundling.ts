/**
 * How each function is bundled (esbuild via NodejsFunction). Kept apart from
 * the construct so `npm run bench -- functions` bundles exactly the same way
 * without loading the CDK.
 */
export const FUNCTION_HANDLERS = ['planner', 'worker', 'notifier', 'digest', 'sweeper'] as const;

/** CommonJS dependencies (nodemailer, parts of the AWS SDK) call require() inside an ES module bundle. */
export const ESM_REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

export const MAIN_FIELDS = ['module', 'main'];

/** Every function must stay under this (issue #5): a small bundle keeps cold starts short. */
export const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;
