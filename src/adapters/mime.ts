/**
 * Raw MIME for a MailMessage, built by nodemailer's stream transport (no
 * network): SES's SendRawEmail needs it for the CSV attachment, and the local
 * outbox stores exactly the same bytes.
 */
import nodemailer from 'nodemailer';
import type { MailMessage } from '../ports/index.js';

const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

export async function toMime(message: MailMessage): Promise<Buffer> {
  const info = await composer.sendMail({
    from: message.from,
    to: [...message.to],
    subject: message.subject,
    text: message.text,
    date: message.date,
    attachments: message.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
  });
  return info.message as Buffer;
}
