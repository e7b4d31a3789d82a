/**
 * Every `report --format`, in one table: the CLI's choices and its dispatch
 * both read it, so a new format is one entry here.
 */
import type { CaseReport } from './case-report.js';
import { toBundle, type BundleFile } from './bundle.js';
import { toCsv, toJson, toMarkdown } from './formats.js';
import { toHtml } from './html.js';

interface TextFormat {
  readonly description: string;
  /** Every observation with its raw bytes (one read per certificate), or only those the evidence records keep. */
  readonly allObservations: boolean;
  readonly kind: 'text';
  readonly render: (r: CaseReport) => string;
}

interface DirectoryFormat {
  readonly description: string;
  readonly allObservations: boolean;
  readonly kind: 'directory';
  readonly render: (r: CaseReport, crlBytes: (sha256: string) => Uint8Array | null) => BundleFile[];
}

export type ReportFormat = TextFormat | DirectoryFormat;

export const REPORT_FORMATS = {
  markdown: { description: 'incident report for the bug (CCADB sections)', allObservations: false, kind: 'text', render: toMarkdown },
  csv: { description: 'one row per certificate', allObservations: false, kind: 'text', render: toCsv },
  json: { description: 'everything, raw OCSP responses included', allObservations: true, kind: 'text', render: toJson },
  html: { description: 'a self-contained page with the chart', allObservations: false, kind: 'text', render: toHtml },
  bundle: { description: 'a folder that verifies itself (needs --out)', allObservations: true, kind: 'directory', render: toBundle },
} as const satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof REPORT_FORMATS;
export const REPORT_FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormatName[];
