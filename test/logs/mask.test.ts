/** logs/mask.ts: secrets replaced whole, in JSON-escaped form, and across pieces of a stream. */
import { describe, expect, test } from "bun:test";
import { MASK, Masker } from "../../src/logs/mask.ts";

const SECRET = "s3cr3t-VALUE-42";

function masker(...secrets: string[]): Masker {
  const m = new Masker();
  for (const s of secrets) m.add(s);
  return m;
}

describe("Masker.mask", () => {
  test("every occurrence, nothing else", () => {
    expect(masker(SECRET).mask(`a ${SECRET} b ${SECRET}${SECRET}`)).toBe(`a ${MASK} b ${MASK}${MASK}`);
    expect(masker(SECRET).mask("s3cr3t-VALUE-4")).toBe("s3cr3t-VALUE-4");
    expect(new Masker().mask(SECRET)).toBe(SECRET);
  });

  test("a secret containing another is replaced whole; empty secrets are ignored", () => {
    const m = masker("abc", "xxabcxx", "");
    expect(m.mask("1 xxabcxx 2 abc")).toBe(`1 ${MASK} 2 ${MASK}`);
    expect(masker("").active).toBe(false);
  });

  test("its JSON-escaped form too (quotes, backslashes, newlines)", () => {
    const secret = 'pa"ss\\wo\nrd';
    const json = JSON.stringify({ value: `x${secret}y` });
    expect(json).not.toContain(secret);
    const masked = masker(secret).mask(json);
    expect(masked).toBe(JSON.stringify({ value: `x${MASK}y` }));
  });
});

describe("Masker.stream", () => {
  test("a secret split across pieces at every position never appears", () => {
    const m = masker(SECRET);
    const text = `before ${SECRET} middle ${SECRET} after`;
    for (let cut = 1; cut < text.length; cut++) {
      for (let cut2 = cut; cut2 < text.length; cut2 += 5) {
        const stream = m.stream();
        const shown = [stream.push(text.slice(0, cut)), stream.push(text.slice(cut, cut2)), stream.push(text.slice(cut2)), stream.end()];
        expect(shown.join("")).toBe(`before ${MASK} middle ${MASK} after`);
        for (const piece of shown) expect(piece).not.toContain(SECRET);
      }
    }
  });

  test("one character at a time", () => {
    const stream = masker(SECRET).stream();
    let shown = "";
    for (const ch of `[${SECRET}]`) shown += stream.push(ch);
    expect(shown + stream.end()).toBe(`[${MASK}]`);
  });

  test("text that only starts like a secret is held back, then shown whole", () => {
    const stream = masker(SECRET).stream();
    expect(stream.push("x s3cr3t")).toBe("x ");
    expect(stream.push("-nope")).toBe("s3cr3t-nope");
    expect(stream.push("s3c")).toBe("");
    expect(stream.end()).toBe("s3c");
  });

  test("without secrets pieces pass unchanged", () => {
    const stream = new Masker().stream();
    expect(stream.push("abc")).toBe("abc");
    expect(stream.end()).toBe("");
  });
});
