import { expect } from 'chai';
import { type EbbtideError, type ErrorCode, isEbbtideError } from '../../src/errors.js';

/** The EbbtideError `fn` throws; fails the test if it returns or throws anything else. */
export function thrownBy(fn: () => unknown, code: ErrorCode): EbbtideError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return expectEbbtideError(e, code);
  }
  expect.fail(`expected an EbbtideError ${code}, but the call returned ${JSON.stringify(result)}`);
}

/** The EbbtideError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejectedBy(promise: Promise<unknown>, code: ErrorCode): Promise<EbbtideError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (e) {
    return expectEbbtideError(e, code);
  }
  expect.fail(`expected a rejection with EbbtideError ${code}, but the promise resolved to ${String(result)}`);
}

function expectEbbtideError(e: unknown, code: ErrorCode): EbbtideError {
  if (!isEbbtideError(e)) expect.fail(`expected an EbbtideError ${code}, got ${e instanceof Error ? e.stack : String(e)}`);
  expect(e.code, e.message).to.equal(code);
  return e;
}
