/**
 * `report --format markdown|csv|json|html` written as the verdicts come
 * (case-report.ts streamCaseReport hands them over in serial order, none
 * kept): CSV row by row; Markdown and JSON put their per-certificate text in
 * a text spool (a temporary file in the CLI) while the counts, timeline and
 * impact that come before it in the file are summed up, then write the head
 * and copy the spool after it; HTML keeps the first rows it shows. The text is
 * byte for byte what the in-memory renderers (formats.ts, html.ts) write.
 */
import type { CaseStore, ObservationStore, StatusSpool } from '../ports/store.js';
import { randomUUID } from 'node:crypto';
import { streamCaseReport, type CaseReport, type CaseReportOptions, type ReportCertificate } from './case-report.js';
import { chartDataFrom } from './chart.js';
import {
  appendixLine,
  CSV_HEADER,
  csvRow,
  findingLine,
  jsonCertificate,
  markdownAfterFindings,
  markdownBeforeAppendix,
  markdownFindingsHead,
} from './formats.js';
import { HTML_CERTIFICATE_ROWS, htmlPage } from './html.js';

/** Text appended in order, then written out once, in order. */
export interface TextSpool {
  append(text: string): void;
  /** Hands the text over in chunks, in order, waiting on `write` when it returns a promise. */
  replay(write: (chunk: string) => void | Promise<void>): Promise<void>;
  /** Releases what the spool holds. */
  close(): void;
}

/** A TextSpool in memory, for callers without a file system (tests, small cases). */
export function memoryTextSpool(): TextSpool {
  let parts: string[] = [];
  return {
    append: (text) => void parts.push(text),
    replay: async (write) => {
      for (let i = 0; i < parts.length; i++) {
        const wait = write(parts[i]!);
        if (wait) await wait;
      }
    },
    close: () => {
      parts = [];
    },
  };
}

export type StreamedTextFormat = 'markdown' | 'csv' | 'json' | 'html';

export interface StreamReportOptions extends CaseReportOptions {
  /** Where per-certificate text waits for the head that counts it (the CLI's is a temporary file). */
  readonly openTextSpool?: () => TextSpool;
  /** Where verdicts wait to be handed out in serial order (the CLI's is a temporary file). */
  readonly openSpool?: () => StatusSpool;
}

/** Lines are gathered this many at a time before they go to the writer or the spool. */
const LINES_PER_WRITE = 2000;

/** Writes one case's report in `format` through `write`; nothing is written when the case does not exist. */
export async function writeTextReport(
  format: StreamedTextFormat,
  store: CaseStore & ObservationStore,
  caseId: string,
  now: number,
  write: (chunk: string) => void | Promise<void>,
  options: StreamReportOptions = {},
): Promise<void> {
  const openTextSpool = options.openTextSpool ?? memoryTextSpool;
  const stream = (onCertificate: (c: ReportCertificate) => void | Promise<void>) =>
    streamCaseReport(store, caseId, now, options, onCertificate);
  if (format === 'csv') return writeCsv(stream, write);
  if (format === 'html') return writeHtml(stream, write);
  const rows = openTextSpool();
  const findings = openTextSpool();
  try {
    if (format === 'markdown') await writeMarkdown(stream, write, rows, findings);
    else await writeJson(stream, write, rows, findings);
  } finally {
    rows.close();
    findings.close();
  }
}

type Stream = (onCertificate: (c: ReportCertificate) => void | Promise<void>) => ReturnType<typeof streamCaseReport>;

/** Gathers text and hands it on a few thousand pieces at a time. */
function batcher(out: (chunk: string) => void | Promise<void>): { add(text: string): void | Promise<void>; flush(): void | Promise<void> } {
  let parts: string[] = [];
  const flush = (): void | Promise<void> => {
    if (parts.length === 0) return;
    const chunk = parts.join('');
    parts = [];
    return out(chunk);
  };
  return {
    add: (text) => {
      parts.push(text);
      if (parts.length >= LINES_PER_WRITE) return flush();
    },
    flush,
  };
}

async function writeCsv(stream: Stream, write: (chunk: string) => void | Promise<void>): Promise<void> {
  // The header goes with the first row, or alone once the case is known to exist: a missing case writes nothing.
  const out = batcher(write);
  let started = false;
  await stream((c) => {
    if (!started) {
      started = true;
      out.add(`${CSV_HEADER.join(',')}\r\n`);
    }
    return out.add(`${csvRow(c)}\r\n`);
  });
  if (!started) out.add(`${CSV_HEADER.join(',')}\r\n`);
  await out.flush();
}

async function writeMarkdown(
  stream: Stream,
  write: (chunk: string) => void | Promise<void>,
  rows: TextSpool,
  findingSpool: TextSpool,
): Promise<void> {
  const rowOut = batcher((chunk) => rows.append(chunk));
  const findingOut = batcher((chunk) => findingSpool.append(chunk));
  const streamed = await stream((c) => {
    rowOut.add(`${appendixLine(c)}\n`);
    for (const finding of c.findings) findingOut.add(`${findingLine({ serial: c.serial, finding })}\n`);
  });
  await rowOut.flush();
  await findingOut.flush();
  const lines = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join('');
  await write(lines(markdownBeforeAppendix(streamed.report, streamed.verdicts)));
  await rows.replay(write);
  await write(lines(markdownFindingsHead()));
  if (streamed.findings === 0) await write('None.\n');
  await findingSpool.replay(write);
  await write(lines(markdownAfterFindings(streamed.report)));
}

/**
 * JSON.stringify's own text, two spaces a level: an element of a top-level array is the element stringified
 * alone with every line after its first indented four more spaces (JSON strings hold no raw line breaks).
 */
const arrayElement = (value: unknown): string => JSON.stringify(value, null, 2).replace(/\n/g, '\n    ');

async function writeJson(
  stream: Stream,
  write: (chunk: string) => void | Promise<void>,
  certs: TextSpool,
  findingSpool: TextSpool,
): Promise<void> {
  const certOut = batcher((chunk) => certs.append(chunk));
  const findingOut = batcher((chunk) => findingSpool.append(chunk));
  let certCount = 0;
  let findingCount = 0;
  const streamed = await stream((c) => {
    certOut.add(`${certCount++ === 0 ? '' : ',\n    '}${arrayElement(jsonCertificate(c))}`);
    for (const finding of c.findings)
      findingOut.add(`${findingCount++ === 0 ? '' : ',\n    '}${arrayElement({ serial: c.serial, finding })}`);
  });
  await certOut.flush();
  await findingOut.flush();
  // The head and tail as toJson writes them, with a marker where each spooled array goes: a string no
  // certificate field can hold, since it is made here after every field was read.
  const marker = (name: string): string => `\u0000revwatch-${name}-${randomUUID()}\u0000`;
  const certMark = marker('certificates');
  const findingMark = marker('findings');
  const { issuers, certificateDers: _ders, ...rest } = streamed.report;
  const text = JSON.stringify(
    {
      ...rest,
      certificates: certMark,
      findings: findingMark,
      issuers: issuers.map((i) => ({ sha256: i.sha256, der: Buffer.from(i.der).toString('base64') })),
    },
    null,
    2,
  );
  const quoted = (m: string): string => JSON.stringify(m);
  const [head, middleAndTail] = splitOnce(text, quoted(certMark));
  const [middle, tail] = splitOnce(middleAndTail, quoted(findingMark));
  await write(head);
  if (certCount === 0) await write('[]');
  else {
    await write('[\n    ');
    await certs.replay(write);
    await write('\n  ]');
  }
  await write(middle);
  if (findingCount === 0) await write('[]');
  else {
    await write('[\n    ');
    await findingSpool.replay(write);
    await write('\n  ]');
  }
  await write(tail);
}

function splitOnce(text: string, at: string): [string, string] {
  const i = text.indexOf(at);
  if (i < 0) throw new Error(`report marker missing: ${at}`);
  return [text.slice(0, i), text.slice(i + at.length)];
}

async function writeHtml(stream: Stream, write: (chunk: string) => void | Promise<void>): Promise<void> {
  const shown: ReportCertificate[] = [];
  const findingsShown: CaseReport['findings'][number][] = [];
  const streamed = await stream((c) => {
    // The page lists the first rows only; what else it says is counted.
    if (shown.length < HTML_CERTIFICATE_ROWS) shown.push({ ...c, observations: [] });
    for (const finding of c.findings) if (findingsShown.length < HTML_CERTIFICATE_ROWS) findingsShown.push({ serial: c.serial, finding });
  });
  const r = streamed.report;
  await write(
    htmlPage(r, {
      verdicts: streamed.verdicts,
      chart: chartDataFrom(r, streamed.revokedAt, r.counts.total),
      shown,
      certificates: r.counts.total,
      findingsShown,
      findings: streamed.findings,
    }),
  );
}
