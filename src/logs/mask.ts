/**
 * @module logs/mask: keeps secret values (SecureString parameters, Secrets Manager secrets) out of
 * everything awstoe writes or sends — the terminal, both logs, the record files, the journal, the
 * CloudWatch copy. One Masker per execution; each writer passes its text through it.
 *
 * A secret is replaced wherever it occurs, also in its JSON-escaped form (a secret with a quote or
 * a backslash in it appears escaped in detailedoutput.json and the journal). Program output
 * arrives in pieces, so a secret can be split across two of them: `stream()` holds back the end of
 * a piece while it could still be the start of a secret.
 */

/** What stands in for a secret. */
export const MASK = "****";

export class Masker {
  /** Every form to replace, longest first so a secret containing another is replaced whole. */
  private forms: string[] = [];

  /** Adds a secret; from now on it is masked everywhere this Masker is used. Empty text is ignored. */
  add(secret: string): void {
    if (secret === "") return;
    const escaped = JSON.stringify(secret).slice(1, -1);
    for (const form of escaped === secret ? [secret] : [secret, escaped]) {
      if (!this.forms.includes(form)) this.forms.push(form);
    }
    this.forms.sort((a, b) => b.length - a.length);
  }

  /** A JSON.stringify replacer that masks every string value (keys are the document's, never secrets). */
  readonly replacer = (_key: string, value: unknown): unknown => (typeof value === "string" ? this.mask(value) : value);

  /** Whether any secret is known (writers may skip the work otherwise). */
  get active(): boolean {
    return this.forms.length > 0;
  }

  /** `text` with every secret replaced by MASK. */
  mask(text: string): string {
    if (this.forms.length === 0) return text;
    const { out, rest } = this.scan(text);
    return out + rest;
  }

  /**
   * A masker for one stream of pieces: each call returns what can safely be shown now; `end()`
   * returns what was held back (it cannot be a whole secret any more).
   */
  stream(): { push(piece: string): string; end(): string } {
    let pending = "";
    return {
      push: (piece) => {
        if (this.forms.length === 0 && pending === "") return piece;
        const { out, rest } = this.scan(pending + piece);
        const hold = this.heldBack(rest);
        pending = rest.slice(rest.length - hold);
        return out + rest.slice(0, rest.length - hold);
      },
      end: () => {
        const rest = pending;
        pending = "";
        return rest;
      },
    };
  }

  /** Replaces whole secrets left to right; `rest` is the text after the last one, unchanged. */
  private scan(text: string): { out: string; rest: string } {
    let out = "";
    let rest = text;
    for (;;) {
      let at = -1;
      let form = "";
      for (const candidate of this.forms) {
        const found = rest.indexOf(candidate);
        if (found >= 0 && (at < 0 || found < at)) {
          at = found;
          form = candidate; // longest first: at equal positions the longer form wins
        }
      }
      if (at < 0) return { out, rest };
      out += rest.slice(0, at) + MASK;
      rest = rest.slice(at + form.length);
    }
  }

  /** How many characters at the end of `text` could be the start of a secret. */
  private heldBack(text: string): number {
    let hold = 0;
    for (const form of this.forms) {
      for (let length = Math.min(form.length - 1, text.length); length > hold; length--) {
        if (text.endsWith(form.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    return hold;
  }
}
