import { expect } from 'chai';
import { type OfferedResource, offerSize, packOffer } from '../src/packOffer.js';

const scalar = (name: string, value: number, role?: string, extra: Partial<OfferedResource> = {}): OfferedResource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  role: '*',
  ...(role ? { allocation_info: { role } } : {}),
  ...extra,
});

describe('packOffer', () => {
  it('packs as many workers as fit by cpus and mem, in queue order', () => {
    const offer = [scalar('cpus', 4), scalar('mem', 3000), scalar('disk', 100)];
    const wanted = [1, 2, 3, 4].map((i) => ({ name: `w-${i}`, cpus: 1, mem: 1000 }));
    expect(packOffer(offer, wanted).map((p) => p.name)).to.deep.equal(['w-1', 'w-2', 'w-3']);
  });

  it('a worker too big for the offer does not block smaller ones behind it', () => {
    const offer = [scalar('cpus', 2), scalar('mem', 2048)];
    const packed = packOffer(offer, [{ name: 'big', cpus: 4, mem: 100 }, { name: 'small', cpus: 1, mem: 1024 }]);
    expect(packed.map((p) => p.name)).to.deep.equal(['small']);
  });

  it('copies the offer\'s allocation role into each task resource', () => {
    const offer = [scalar('cpus', 2, 'analytics'), scalar('mem', 4096, 'analytics')];
    const [t] = packOffer(offer, [{ name: 'w', cpus: 1.5, mem: 2048 }]);
    expect(t!.resources).to.deep.equal([scalar('cpus', 1.5, 'analytics'), scalar('mem', 2048, 'analytics')]);
  });

  it('takes from several entries of one resource (reserved, then unreserved), keeping each one\'s reservation', () => {
    const reserved = { reservations: [{ type: 'STATIC', role: 'r' }] };
    const offer = [scalar('cpus', 0.5, 'r', reserved), scalar('cpus', 2, 'r'), scalar('mem', 512, 'r', reserved), scalar('mem', 1024, 'r')];
    const [t] = packOffer(offer, [{ name: 'w', cpus: 1, mem: 1024 }]);
    expect(t!.resources).to.deep.equal([scalar('cpus', 0.5, 'r', reserved), scalar('cpus', 0.5, 'r'), scalar('mem', 512, 'r', reserved), scalar('mem', 512, 'r')]);
    expect(offer[0]!.scalar!.value, 'the offer itself is not changed').to.equal(0.5);
  });

  it('keeps three decimals, so tenths add up exactly', () => {
    const offer = [scalar('cpus', 0.3), scalar('mem', 300)];
    const packed = packOffer(offer, [1, 2, 3].map((i) => ({ name: `w${i}`, cpus: 0.1, mem: 100 })));
    expect(packed).to.have.length(3);
  });

  it('offers without cpus or mem fit nothing; offerSize sums the scalars', () => {
    expect(packOffer([scalar('disk', 10)], [{ name: 'w', cpus: 1, mem: 1 }])).to.deep.equal([]);
    expect(offerSize([scalar('cpus', 1), scalar('cpus', 0.5), scalar('mem', 64)])).to.deep.equal({ cpus: 1.5, mem: 64 });
  });
});
