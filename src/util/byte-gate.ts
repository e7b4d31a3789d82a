/**
 * A bound on the bytes of work in progress at once (the sweep's CRLs being folded: sweep/sweep.ts): work is
 * admitted by its bytes up to a limit, one item larger than the limit alone.
 */
export class ByteGate {
  private held = 0;
  private readonly waiting: { bytes: number; admit: () => void }[] = [];

  constructor(private readonly limit: number) {}

  async enter(bytes: number): Promise<() => void> {
    // Admitted now, or by a release (which counts the bytes in as it admits).
    if (this.waiting.length === 0 && this.fits(bytes)) this.held += bytes;
    else await new Promise<void>((admit) => this.waiting.push({ bytes, admit }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      // In arrival order: a large item waits for room, and later small ones do not pass it for ever.
      while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
        const next = this.waiting.shift()!;
        this.held += next.bytes;
        next.admit();
      }
    };
  }

  private fits(bytes: number): boolean {
    return this.held === 0 || this.held + bytes <= this.limit;
  }
}
