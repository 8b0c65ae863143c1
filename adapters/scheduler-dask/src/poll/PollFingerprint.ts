/**
 * A running 53-bit hash (two FNV-1a lanes) of what one poll read, so that successive polls can be
 * compared without keeping the previous replies: equal fingerprints mean nothing the snapshot is
 * built from moved (up to a hash collision, which at worst delays noticing one poll's change
 * until the next change).
 */
export class PollFingerprint {
  private a = 0x811c9dc5;
  private b = 0x01000193;

  add(s: string): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    // A separator, so that ["ab", "c"] and ["a", "bc"] differ.
    this.a = Math.imul(a ^ 0xff, 0x01000193);
    this.b = Math.imul(b ^ 0xff, 0x5bd1e995);
    return this;
  }

  addNumber(n: number): this {
    return this.add(String(n));
  }

  get value(): number {
    return (this.a >>> 0) * 0x200000 + ((this.b >>> 0) & 0x1fffff);
  }
}
