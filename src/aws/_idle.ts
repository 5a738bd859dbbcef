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

