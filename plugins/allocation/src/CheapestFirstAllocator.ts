import type { AllocationRequest, AllocationResult, PoolAllocator } from '@ebbtide/core';
import { cheapestFirst } from './cheapestFirst.js';

/** The `cheapest-first` allocation as a plugin implementation (see `cheapestFirst`). */
export class CheapestFirstAllocator implements PoolAllocator {
  allocate(request: AllocationRequest): AllocationResult {
    return cheapestFirst(request);
  }
}
