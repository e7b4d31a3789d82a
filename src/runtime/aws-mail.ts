/** AWS mode's mail: SES, the client made on first send (the notifier, the digest and the CLI's notices). */
import { SESClient } from '@aws-sdk/client-ses';
import { SesMailer } from '../adapters/aws/ses-mailer.js';
import type { Mailer } from '../ports/index.js';

export function sesMailer(): Mailer {
  let ses: SesMailer | null = null;
  return {
    send: (message) => {
      ses ??= new SesMailer(new SESClient({}));
      return ses.send(message);
    },
  };
}
