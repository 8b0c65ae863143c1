import { type EbbtideError, isEbbtideError } from '@ebbtide/core';

/** The EbbtideError a promise rejects with; fails if it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<EbbtideError> {
  try {
    await p;
  } catch (e) {
    if (isEbbtideError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
