/** The transfer budget: slots and bytes, first come first served, abort, and the settings. */
import { expect, test } from "bun:test";
import { parseSize, TransferLimit, transferSettings, type TransferLease } from "../../src/model/transfer-limit.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("no more requests in flight than the limit; a released slot goes to the next waiter", async () => {
  const limit = new TransferLimit(2, 1000);
  const a = await limit.acquire(10);
  const b = await limit.acquire(10);
  let third: TransferLease | undefined;
  void limit.acquire(10).then((lease) => (third = lease));
  await tick();
  expect(third).toBeUndefined();
  expect(limit.waiting).toBe(1);
  a.release();
  a.release(); // twice gives back nothing more
  await tick();
  expect(third?.bytes).toBe(10);
  expect(limit.requests).toBe(2);
  b.release();
  third!.release();
  expect(limit.requests).toBe(0);
  expect(limit.bytes).toBe(0);
  expect(limit.peakRequests).toBe(2);
});

test("bytes held never pass the budget; first come, first served (a big request is not overtaken)", async () => {
  const limit = new TransferLimit(10, 100);
  const order: string[] = [];
  const first = await limit.acquire(60);
  const big = limit.acquire(80).then((lease) => (order.push("big"), lease));
  const small = limit.acquire(10).then((lease) => (order.push("small"), lease));
  await tick();
  expect(order).toEqual([]); // small would fit, but big asked first
  first.release();
  const bigLease = await big;
  const smallLease = await small; // 80 + 10 fit together
  expect(limit.bytes).toBe(90);
  expect(order).toEqual(["big", "small"]);
  expect(limit.peakBytes).toBeLessThanOrEqual(100);
  bigLease.release();
  smallLease.release();
});

test("a request larger than the whole budget runs alone", async () => {
  const limit = new TransferLimit(4, 100);
  const huge = await limit.acquire(500);
  let other: TransferLease | undefined;
  void limit.acquire(1).then((lease) => (other = lease));
  await tick();
  expect(other).toBeUndefined();
  huge.release();
  await tick();
  expect(other).toBeDefined();
  other!.release();
});

test("an aborted waiter leaves the queue with the signal's reason and unblocks the rest", async () => {
  const limit = new TransferLimit(1, 100);
  const held = await limit.acquire(100);
  const stop = new AbortController();
  const waiting = limit.acquire(50, stop.signal);
  const after = limit.acquire(50);
  stop.abort(new Error("time limit"));
  await expect(waiting).rejects.toThrow("time limit");
  expect(limit.waiting).toBe(1);
  held.release();
  (await after).release();
  await expect(limit.acquire(1, stop.signal)).rejects.toThrow("time limit");
});

test("run() holds the lease for the work and releases it when the work fails", async () => {
  const limit = new TransferLimit(3, 30);
  await expect(limit.run(10, async () => { throw new Error("boom"); })).rejects.toThrow("boom");
  expect(limit.requests).toBe(0);
  // Many concurrent users: the accounting never passes either bound.
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 40 }, (_, n) =>
      limit.run(n % 3 === 0 ? 20 : 5, async () => {
        most = Math.max(most, ++inside);
        expect(limit.bytes).toBeLessThanOrEqual(30);
        await new Promise((resolve) => setTimeout(resolve, n % 4));
        inside--;
      }),
    ),
  );
  expect(most).toBeLessThanOrEqual(3);
  expect(limit.peakRequests).toBe(3);
  expect(limit.peakBytes).toBeLessThanOrEqual(30);
});

test("settings: defaults like aws s3 cp, sizes with units, nonsense refused by name", () => {
  expect(transferSettings({})).toEqual({ partSize: 8 * 1024 * 1024, concurrency: 10, maxBytes: 80 * 1024 * 1024 });
  expect(transferSettings({ OPENTOE_S3_PART_SIZE: "64KiB", OPENTOE_S3_MAX_CONCURRENCY: "4" })).toEqual({ partSize: 65536, concurrency: 4, maxBytes: 262144 });
  expect(parseSize("1000")).toBe(1000);
  expect(parseSize("8M")).toBe(8 * 1024 * 1024);
  expect(parseSize("1 GiB")).toBe(1024 ** 3);
  expect(parseSize("512kb")).toBe(512 * 1024);
  expect(parseSize("1.5M")).toBeUndefined();
  expect(() => transferSettings({ OPENTOE_S3_PART_SIZE: "lots" })).toThrow("OPENTOE_S3_PART_SIZE='lots' is not usable");
  expect(() => transferSettings({ OPENTOE_S3_MAX_CONCURRENCY: "0" })).toThrow("OPENTOE_S3_MAX_CONCURRENCY='0' is not usable: give a whole number from 1 to 100");
  expect(() => transferSettings({ OPENTOE_S3_PART_SIZE: "6GiB" })).toThrow(/from 1 to 5,368,709,120 bytes/);
});
