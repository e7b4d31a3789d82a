/** The Mailer adapter over SES (SendRawEmail, for the CSV attachment). */
import { SendRawEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import type { MailMessage, Mailer } from '../../ports/index.js';
import { toMime } from '../mime.js';

export class SesMailer implements Mailer {
  constructor(private readonly client: SESClient) {}

  async send(message: MailMessage): Promise<void> {
    const raw = await toMime(message);
    await this.client.send(new SendRawEmailCommand({ Source: message.from, Destinations: [...message.to], RawMessage: { Data: raw } }));
  }
}
