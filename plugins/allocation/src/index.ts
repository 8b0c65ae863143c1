import { definePlugin } from '@ebbtide/core';
import { CheapestFirstAllocator } from './CheapestFirstAllocator.js';

export { cheapestFirst } from './cheapestFirst.js';
export { CheapestFirstAllocator } from './CheapestFirstAllocator.js';

/** ebbtide's built-in allocation over worker pools: `cheapest-first`. */
const allocationPlugin = definePlugin({
  name: 'allocation',
  description: 'cheapest-first allocation of the cluster target over worker pools',
  register(r) {
    r.allocation('cheapest-first', () => new CheapestFirstAllocator());
  },
});

export default allocationPlugin;
export { allocationPlugin };
