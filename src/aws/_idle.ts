/**
 * @module aws/_idle: the idle limit on a streamed answer. A read that waits longer than the limit
 * fails with a TimeoutError ("no data for …") and aborts the request, so no connection is left
 * behind; time the reader spends elsewhere does not count. Shared by the SDK's fetch handler
 * (aws/s3.ts) and the direct requests (aws/s3-direct.ts).
 */

export function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError" });
}

/** `body`, failing with a TimeoutError ("no data …") when a read waits longer than `idleMs`. */
export function watchedBody(body: ReadableStream<Uint8Array>, idleMs: number, attempt: AbortController, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let released = false;
  const finish = () => {
    if (!released) {
      released = true;
      release();
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(timeoutError(`no data for ${idleMs} ms`)), idleMs);
        });
        try {
          const next = await Promise.race([reader.read(), stalled]);
          if (next.done) {
            finish();
            controller.close();
          } else controller.enqueue(next.value);
        } catch (error) {
          finish();
          attempt.abort(error);
          controller.error(error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        finish();
        attempt.abort(reason);
        return reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}


/** One request attempt: aborted by the caller's signal, or by a TimeoutError when no answer comes within `headersMs`. */
export interface WatchedAttempt {
  attempt: AbortController;
  /** Detaches from the caller's signal (once the answer's body is done with). */
  release: () => void;
  /** Stops the answer timer (the answer came, or the request failed). */
  answered: () => void;
  /** Whether the answer timer fired. */
  timedOut: () => boolean;
}

export function watchAttempt(signal: AbortSignal | undefined, headersMs: number, idleMs: number): WatchedAttempt {
  const attempt = new AbortController();
  const follow = () => attempt.abort(signal?.reason);
  if (signal?.aborted) follow();
  else signal?.addEventListener("abort", follow, { once: true });
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    attempt.abort(timeoutError(`no answer for ${idleMs} ms`));
  }, headersMs);
  return { attempt, release: () => signal?.removeEventListener("abort", follow), answered: () => clearTimeout(timer), timedOut: () => fired };
}
