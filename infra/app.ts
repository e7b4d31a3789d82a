/**
 * The CDK app: `npx cdk synth -c sender=…` / `npx cdk deploy -c sender=…`
 * (context keys: infra/config.ts and README.md). cdk-nag's AwsSolutions
 * checks run on every synth; an unsuppressed finding fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStackConfig, StackConfigError } from './config.js';
import { RevwatchStack } from './revwatch-stack.js';

const app = new App();
try {
  const config = readStackConfig((key) => app.node.tryGetContext(key));
  new RevwatchStack(app, config.stackName, {
    config,
    description: 'revwatch: holds CAs to their BR revocation deadlines',
    // Environment-agnostic unless the CLI knows the account: synth needs no AWS access.
    env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
} catch (err) {
  if (err instanceof StackConfigError) {
    console.error(`revwatch: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
