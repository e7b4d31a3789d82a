/**
 * Every `report --format`, in one table: the CLI's choices and its dispatch
 * both read it, so a new format is one entry here. Renderers are loaded when
 * asked for, so reading the table (for `--help`) loads no renderer.
 */
import type { CaseReport } from './case-report.js';
import type { BundleFile } from './bundle.js';
import type { StreamedTextFormat } from './stream-report.js';

interface TextFormat {
  readonly description: string;
  /** Whether the format shows each certificate's observations at all: building them for 100,000 certificates costs seconds. */
  readonly observations: boolean;
  /** Every observation with its raw bytes (one read per certificate), or only those the evidence records keep. */
  readonly allObservations: boolean;
  /** Every certificate's own bytes (a read per certificate), or none beyond the issuers. */
  readonly certificateBytes: boolean;
  readonly kind: 'text';
  /** The whole report in memory (the evidence bundle's and the site's pages). */
  readonly renderer: () => Promise<(r: CaseReport) => string>;
  /** The same text written as the verdicts come (report/stream-report.ts), which `revwatch report` uses. */
  readonly streamed: StreamedTextFormat;
}

interface DirectoryFormat {
  readonly description: string;
  readonly observations: boolean;
  readonly allObservations: boolean;
  readonly certificateBytes: boolean;
  readonly kind: 'directory';
  readonly renderer: () => Promise<(r: CaseReport, crlBytes: (sha256: string) => Uint8Array | null) => BundleFile[]>;
}

/**
 * Written row by row as the verdicts are handed out (report/irg-csv.ts), never held whole: an appendix of
 * millions of certificates. It reads no observations and no certificate bytes.
 */
interface StreamFormat {
  readonly description: string;
  readonly observations: false;
  readonly allObservations: false;
  readonly certificateBytes: false;
  readonly kind: 'stream';
}

export type ReportFormat = TextFormat | DirectoryFormat | StreamFormat;

export const REPORT_FORMATS = {
  markdown: {
    description: 'incident report for the bug (CCADB sections)',
    observations: false,
    allObservations: false,
    certificateBytes: false,
    kind: 'text',
    renderer: async () => (await import('./formats.js')).toMarkdown,
    streamed: 'markdown',
  },
  csv: {
    description: 'one row per certificate',
    observations: false,
    allObservations: false,
    certificateBytes: false,
    kind: 'text',
    renderer: async () => (await import('./formats.js')).toCsv,
    streamed: 'csv',
  },
  'irg-csv': {
    description: "the CCADB Incident Reporting Guidelines' appendix: its eleven standard columns first, then revwatch's evidence",
    observations: false,
    allObservations: false,
    certificateBytes: false,
    kind: 'stream',
  },
  json: {
    description: 'everything, raw OCSP responses included',
    observations: true,
    allObservations: true,
    certificateBytes: false,
    kind: 'text',
    renderer: async () => (await import('./formats.js')).toJson,
    streamed: 'json',
  },
  html: {
    description: 'a self-contained page with the chart',
    observations: false,
    allObservations: false,
    certificateBytes: false,
    kind: 'text',
    renderer: async () => (await import('./html.js')).toHtml,
    streamed: 'html',
  },
  bundle: {
    description: 'a folder that verifies itself (needs --out)',
    observations: true,
    allObservations: true,
    certificateBytes: true,
    kind: 'directory',
    renderer: async () => (await import('./bundle.js')).toBundle,
  },
} as const satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof REPORT_FORMATS;
export const REPORT_FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormatName[];
