import { describeAllocation } from '@ebbtide/core/testing';
import { CheapestFirstAllocator } from '../src/index.js';

describeAllocation('cheapest-first', () => new CheapestFirstAllocator());
