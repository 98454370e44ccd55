/** Shared by the DBS client tests: the classified error a call rejects with. */
import { expect } from 'vitest';
import { DbsApiError } from '../../src/dbs/errors.js';

/** Awaits a call that must fail and returns its `DbsApiError` (a success or another error fails the test). */
export async function failureOf(promise: Promise<unknown>): Promise<DbsApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DbsApiError);
    return error as DbsApiError;
  }
  throw new Error('expected the call to fail');
}
