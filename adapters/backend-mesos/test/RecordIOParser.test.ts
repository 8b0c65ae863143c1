import { expect } from 'chai';
import { RecordIOParser } from '../src/RecordIOParser.js';

function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

/** Feeds `bytes` in pieces of `size` and collects every record. */
function feed(bytes: Buffer, size: number): string[] {
  const p = new RecordIOParser();
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...p.push(bytes.subarray(i, i + size)));
  expect(p.pending, 'bytes left over at a record boundary').to.equal(0);
  return out;
}

describe('RecordIOParser', () => {
  const events = ['{"type":"SUBSCRIBED"}', '{"type":"HEARTBEAT"}', '{"type":"UPDATE","update":{"status":{"message":"é ü ✓ 𝄞 日本"}}}'];
  const stream = Buffer.concat(events.map(frame));

  it('reads records whatever the chunk boundaries, one byte at a time up to the whole stream', () => {
    for (let size = 1; size <= stream.length; size++) expect(feed(stream, size), `chunks of ${size} bytes`).to.deep.equal(events);
  });

  it('counts lengths in bytes, so multi-byte UTF-8 split inside a character decodes intact', () => {
    const text = '{"m":"𝄞𝄞𝄞 ✓✓ éé"}';
    const bytes = frame(text);
    // Every split point, including inside each 4-, 3- and 2-byte character.
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new RecordIOParser();
      const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(got, `cut at byte ${cut}`).to.deep.equal([text]);
    }
    expect(Buffer.byteLength(text)).to.be.greaterThan(text.length);
  });

  it('reads a large record (8 MiB) delivered in 64 KiB chunks, followed by a small one', () => {
    const big = JSON.stringify({ type: 'OFFERS', pad: 'x'.repeat(8 * 2 ** 20) });
    const got = feed(Buffer.concat([frame(big), frame('{"type":"HEARTBEAT"}')]), 65536);
    expect(got).to.have.length(2);
    expect(got[0]!.length).to.equal(big.length);
    expect(got[0] === big).to.equal(true);
    expect(got[1]).to.equal('{"type":"HEARTBEAT"}');
  });

  it('returns nothing until a record is complete, then exactly it', () => {
    const p = new RecordIOParser();
    expect(p.push(Buffer.from('2'))).to.deep.equal([]);
    expect(p.push(Buffer.from('0\n{"type":"HEART'))).to.deep.equal([]);
    expect(p.push(Buffer.from('BEAT"}1'))).to.deep.equal(['{"type":"HEARTBEAT"}']);
    expect(p.pending).to.equal(1);
  });

  it('rejects a stream that is not RecordIO', () => {
    expect(() => new RecordIOParser().push(Buffer.from('{"type":"SUBSCRIBED"}\n'))).to.throw(/expected a decimal record length/);
    expect(() => new RecordIOParser().push(Buffer.from('1234567890123456789012345'))).to.throw(/without a newline/);
    expect(() => new RecordIOParser().push(Buffer.from('999999999999\n'))).to.throw(/exceeds/);
    expect(() => new RecordIOParser().push(Buffer.from([0x32, 0x0a, 0xc3, 0x28]))).to.throw(/not valid UTF-8/);
  });
});
