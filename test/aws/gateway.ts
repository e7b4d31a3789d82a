/**
 * One loopback HTTP endpoint per AWS service, in front of its emulator. The
 * functions' SDK clients reach it through `AWS_ENDPOINT_URL_<SERVICE>`; it
 * reads each request as IAM would see it (who, which action, on which
 * resource, with which condition keys), records it, and lets a test answer
 * in the service's place (a refusal, an outage) or act after it (kill the
 * caller). Callers are told apart by their dummy access key id, which the
 * harness sets per function process: `<role logical id>.<instance>`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type Backend = (req: RawRequest) => Promise<Reply>;

export interface Call {
  readonly seq: number;
  readonly service: string;
  /** The access key id: `<role>.<instance>`, or `cli` / `harness`. */
  readonly caller: string;
  /** IAM's name, e.g. `dynamodb:PutItem`. */
  readonly action: string;
  /** The ARNs IAM would authorize the call against. */
  readonly resources: readonly string[];
  /** Condition keys IAM would evaluate (e.g. ses:FromAddress). */
  readonly context: Readonly<Record<string, string>>;
  /** The request as parsed (JSON body, form fields, or the S3 key). */
  readonly input: Readonly<Record<string, unknown>>;
  readonly bytes: number;
  status?: number;
  /** The error code the service answered with, if any. */
  errorCode?: string;
}

export type Describe = (req: RawRequest) => Omit<Call, 'seq' | 'service' | 'caller' | 'bytes'>;
export type Intercept = (call: Call, forward: () => Promise<Reply>) => Promise<Reply>;

/** Forwards to an emulator on loopback, unchanged. */
export function forwardTo(base: string): Backend {
  const target = new URL(base);
  return (req) =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, host: target.host, 'content-length': String(req.body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== 'transfer-encoding') headers[k] = String(v);
            resolve({ status: res.statusCode ?? 500, headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(req.body);
    });
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** The access key id of a SigV4 request (Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/...). */
export const accessKeyOf = (headers: Readonly<Record<string, string>>): string =>
  /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1] ?? 'anonymous';

/** The error code in a JSON (`__type`), query-XML or REST-XML error body. */
export function errorCodeOf(reply: Reply): string | undefined {
  if (reply.status < 300) return undefined;
  const text = reply.body.toString('utf8');
  try {
    const t = (JSON.parse(text) as { __type?: string }).__type;
    if (t) return t.replace(/^.*#/, '');
  } catch {
    // XML
  }
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${reply.status}`;
}

export class Gateway {
  private server: Server | null = null;
  url = '';
  readonly calls: Call[] = [];
  intercept: Intercept | null = null;
  private static seq = 0;

  constructor(
    readonly service: string,
    private readonly backend: Backend,
    private readonly describe: Describe,
  ) {}

  async start(host: string): Promise<this> {
    this.server = createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
        const raw: RawRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
        let described: ReturnType<Describe>;
        try {
          described = this.describe(raw);
        } catch (err) {
          described = { action: `${this.service}:?`, resources: [], context: {}, input: { unparsed: (err as Error).message } };
        }
        const call: Call = { seq: ++Gateway.seq, service: this.service, caller: accessKeyOf(headers), bytes: body.length, ...described };
        this.calls.push(call);
        const forward = () => this.backend(raw);
        let reply: Reply;
        try {
          reply = this.intercept ? await this.intercept(call, forward) : await forward();
        } catch (err) {
          reply = { status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`gateway: ${(err as Error).message}`) };
        }
        call.status = reply.status;
        call.errorCode = errorCodeOf(reply);
        if (res.destroyed) return;
        res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
        res.end(reply.body);
      })();
    });
    // Keep-alive sockets of killed callers must not keep the server open at the end.
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** An answer in AWS JSON 1.0/1.1 error form. */
export const jsonError = (status: number, type: string, message: string, queryError?: string): Reply => ({
  status,
  headers: {
    'content-type': 'application/x-amz-json-1.0',
    ...(queryError ? { 'x-amzn-query-error': queryError } : {}),
  },
  body: Buffer.from(JSON.stringify({ __type: type, message })),
});

export const jsonReply = (value: unknown): Reply => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: Buffer.from(JSON.stringify(value)),
});

export const xmlReply = (status: number, xml: string): Reply => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`),
});
