/** Mail out: the notices and the digest (SES in AWS, the outbox locally), and the ledger that sends each notice once. */

export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly date: Date;
  readonly attachments: readonly { filename: string; contentType: string; content: string }[];
}

/** Sends one message; throws when it could not be handed over. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface NoticeLedger {
  /** Claims keys not yet sent (new, released, or whose claim lapsed). Returns the keys this run now holds. */
  claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]>;
  markNoticesSent(caseId: string, keys: readonly string[], runId: string, now: number): Promise<void>;
  releaseNotices(caseId: string, keys: readonly string[], runId: string): Promise<void>;
  listNotices(caseId: string): Promise<{ key: string; state: string }[]>;
}
