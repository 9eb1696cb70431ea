/**
 * The first row of each key of a file, kept as a 64-bit hash of the key in typed arrays
 * (open addressing, linear probing): about 16 bytes a key instead of the 100 or so a
 * Map<string, number> entry takes, so a file of a million students (two keys each) costs
 * tens of megabytes, not hundreds. Two different keys share a hash with a probability of
 * about n² / 2⁶⁵ (1 in 10 million for two million keys); the row would then be reported as
 * repeating the other one, visibly, in the preview.
 */
export class KeyTable {
  private low = new Int32Array(1 << 12);
  private high = new Int32Array(1 << 12);
  /** The row of each slot; 0 marks an empty slot (row numbers start at 1). */
  private rows = new Int32Array(1 << 12);
  private size = 0;

  /** The row that had `key` first, or undefined after recording `row` as its first. */
  firstOrAdd(key: string, row: number): number | undefined {
    const [low, high] = hash64(key);
    const mask = this.rows.length - 1;
    let slot = low & mask;
    while (this.rows[slot] !== 0) {
      if (this.low[slot] === low && this.high[slot] === high) return this.rows[slot];
      slot = (slot + 1) & mask;
    }
    this.low[slot] = low;
    this.high[slot] = high;
    this.rows[slot] = row;
    this.size += 1;
    if (this.size * 2 > this.rows.length) this.grow();
    return undefined;
  }

  private grow(): void {
    const { low, high, rows } = this;
    this.low = new Int32Array(rows.length * 2);
    this.high = new Int32Array(rows.length * 2);
    this.rows = new Int32Array(rows.length * 2);
    const mask = this.rows.length - 1;
    for (let old = 0; old < rows.length; old++) {
      if (rows[old] === 0) continue;
      let slot = low[old]! & mask;
      while (this.rows[slot] !== 0) slot = (slot + 1) & mask;
      this.low[slot] = low[old]!;
      this.high[slot] = high[old]!;
      this.rows[slot] = rows[old]!;
    }
  }
}

/** Two independent 32-bit hashes of the string's UTF-16 code units (FNV-1a and a murmur3-style mix). */
function hash64(text: string): [number, number] {
  let fnv = 0x811c9dc5;
  let murmur = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    fnv = Math.imul(fnv ^ unit, 0x01000193);
    let k = Math.imul(unit, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    murmur ^= Math.imul(k, 0x1b873593);
    murmur = (murmur << 13) | (murmur >>> 19);
    murmur = (Math.imul(murmur, 5) + 0xe6546b64) | 0;
  }
  murmur ^= murmur >>> 16;
  murmur = Math.imul(murmur, 0x85ebca6b);
  murmur ^= murmur >>> 13;
  murmur = Math.imul(murmur, 0xc2b2ae35);
  murmur ^= murmur >>> 16;
  // FNV's low bits are weak for short keys: mix before they pick the slot.
  fnv ^= fnv >>> 15;
  fnv = Math.imul(fnv, 0x2c1b3c6d);
  fnv ^= fnv >>> 12;
  return [fnv | 0, murmur | 0];
}
