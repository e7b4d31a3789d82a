/**
 * Local mode's Mailer: the message that SES would carry, written to
 * <home>/outbox/*.eml, and one summary line for the person at the terminal.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailMessage, Mailer } from '../../ports/index.js';
import { toMime } from '../mime.js';

export class OutboxMailer implements Mailer {
  readonly written: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly summary: (line: string) => void,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const raw = await toMime(message);
    mkdirSync(this.dir, { recursive: true });
    const stamp = message.date.toISOString().replace(/[:.]/g, '-');
    const name = `${stamp}-${createHash('sha256').update(raw).digest('hex').slice(0, 12)}.eml`;
    const path = join(this.dir, name);
    writeFileSync(path, raw);
    this.written.push(path);
    this.summary(`mail to ${message.to.join(', ')}: ${message.subject} (${path})`);
  }
}
