/**
 * A cap on bytes held across many holders (the scheduler's connections and their partly received
 * frames). Each holder tells it how much it holds now; a change that would take the total above
 * the cap is refused, and the holder is expected to let go of everything (close).
 */
export class ByteBudget {
  private usedBytes = 0;

  constructor(readonly cap: number) {}

  /** Bytes held across every holder. */
  get used(): number {
    return this.usedBytes;
  }

  /**
   * A holder's charge goes from `held` to `holds`. Returns false, changing nothing, when that
   * would exceed the cap (a shrink is always allowed).
   */
  recharge(held: number, holds: number): boolean {
    const next = this.usedBytes - held + holds;
    if (holds > held && next > this.cap) return false;
    this.usedBytes = next;
    return true;
  }
}
