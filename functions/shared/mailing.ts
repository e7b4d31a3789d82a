/** What the functions that send mail (notifier, digest) are built from, once per cold start. */
import { openMailingRuntime, type MailingRuntime } from '../../src/runtime/aws-mailing.js';
import type { Env } from '../../src/runtime/env.js';
import { createObservability, type Observability } from './observability.js';

export type MailingDeps = MailingRuntime & Observability;

export const mailingDepsFromEnvironment = (env: Env): MailingDeps => ({ ...openMailingRuntime(env), ...createObservability() });
