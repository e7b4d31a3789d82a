/**
 * aws-ses-v2-local on a loopback port: the real SES client sends to it, and
 * tests read what it received from its `GET /store`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sesLocal from 'aws-ses-v2-local';
import { SESClient } from '@aws-sdk/client-ses';

type StartSes = (config?: { host?: string; port?: number }) => Promise<Server>;
// CommonJS with `exports.default`: Node's ESM loader and vitest wrap it differently.
const sesModule = sesLocal as unknown as { default: StartSes | { default: StartSes } };
const startSes: StartSes = typeof sesModule.default === 'function' ? sesModule.default : sesModule.default.default;

export interface ReceivedEmail {
  readonly from: string;
  readonly destination: { readonly to: string[] };
  readonly subject: string;
  readonly body: { readonly text?: string };
  readonly attachments: { readonly filename?: string; readonly contentType: string; readonly content: string }[];
}

export class SesEmulator {
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = await startSes({ host: '127.0.0.1', port: 0 });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  client(): SESClient {
    return new SESClient({ endpoint: this.url, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  }

  /** Everything received so far. The emulator's store is per process, so the caller filters by subject or time. */
  async emails(): Promise<ReceivedEmail[]> {
    return ((await (await fetch(`${this.url}/store`)).json()) as { emails: ReceivedEmail[] }).emails;
  }

  async clear(): Promise<void> {
    await fetch(`${this.url}/clear-store`, { method: 'POST' });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The To header's addresses (the emulator keeps each header's text as one entry). */
export const recipients = (e: ReceivedEmail): string[] => e.destination.to.flatMap((t) => t.split(/,\s*/)).sort();
