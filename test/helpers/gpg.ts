/**
 * @module test/helpers/gpg: throwaway OpenPGP keys for the release tests, made and checked with the
 * real GnuPG. Each key lives in its own private GNUPGHOME (a short folder under /tmp: gpg-agent's
 * socket path must stay under the Unix socket length limit); `dispose()` stops that home's agent
 * and removes it. Nothing touches the user's own keyring.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ThrowawayKey {
  /** The GNUPGHOME holding the secret key (for signing through an agent: OPENTOE_GPG_KEY). */
  home: string;
  /** 40 upper-case hex digits. */
  fingerprint: string;
  /** The exported secret key, armored (for OPENTOE_GPG_KEY_FILE). */
  secretKeyFile: string;
  /** The exported public key, armored. */
  publicKeyFile: string;
  dispose(): void;
}

export const GPG = Bun.which("gpg");

/** Runs gpg with `home`; throws with its stderr when it fails. */
export function gpg(home: string, args: readonly string[], stdin?: string): { stdout: string; stderr: string; code: number } {
  const run = Bun.spawnSync(["gpg", "--homedir", home, "--batch", "--no-tty", ...args], {
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, LC_ALL: "C" },
  });
  return { stdout: run.stdout.toString(), stderr: run.stderr.toString(), code: run.exitCode ?? 1 };
}

/** A new GNUPGHOME, mode 0700, under /tmp (short, for the agent's socket). */
export function newHome(): string {
  return mkdtempSync("/tmp/otgpg-");
}

/** Stops the agent of `home` and removes the folder. */
export function removeHome(home: string): void {
  Bun.spawnSync(["gpgconf", "--homedir", home, "--kill", "all"], { stdout: "ignore", stderr: "ignore" });
  rmSync(home, { recursive: true, force: true });
}

/** The primary key's fingerprint of the only key in `home`. */
export function onlyFingerprint(home: string, secret = false): string {
  const list = gpg(home, ["--with-colons", secret ? "--list-secret-keys" : "--list-keys"]);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(list.stdout)?.[1];
  if (fpr === undefined) throw new Error(`no key in ${home}: ${list.stderr}`);
  return fpr;
}

/** Makes an Ed25519 signing key with no passphrase (or `passphrase`) and exports both halves. */
export function throwawayKey(name = "opentoe test release key", passphrase = ""): ThrowawayKey {
  const home = newHome();
  const made = gpg(home, ["--pinentry-mode", "loopback", "--passphrase", passphrase, "--quick-generate-key", `${name} <release@example.invalid>`, "ed25519", "sign", "never"]);
  if (made.code !== 0) {
    removeHome(home);
    throw new Error(`gpg --quick-generate-key failed: ${made.stderr}`);
  }
  const fingerprint = onlyFingerprint(home, true);
  const secretKeyFile = join(home, "secret.asc");
  const publicKeyFile = join(home, "public.asc");
  writeFileSync(secretKeyFile, gpg(home, ["--pinentry-mode", "loopback", "--passphrase", passphrase, "--armor", "--export-secret-keys", fingerprint]).stdout, { mode: 0o600 });
  writeFileSync(publicKeyFile, gpg(home, ["--armor", "--export", fingerprint]).stdout);
  return { home, fingerprint, secretKeyFile, publicKeyFile, dispose: () => removeHome(home) };
}

/**
 * `gpg --verify sig file` in a fresh home that holds only `publicKeyFile`. Returns whether gpg
 * accepted it, and the fingerprint of the key that made a good signature (from --status-fd).
 */
export function verifyDetached(publicKeyFile: string, signature: string, file: string): { ok: boolean; signer?: string; output: string } {
  const home = newHome();
  try {
    const imported = gpg(home, ["--import", publicKeyFile]);
    if (imported.code !== 0) throw new Error(`gpg --import ${publicKeyFile} failed: ${imported.stderr}`);
    const run = gpg(home, ["--status-fd", "1", "--verify", signature, file]);
    const signer = /^\[GNUPG:\] VALIDSIG \S+ .* ([0-9A-F]{40})$/m.exec(run.stdout)?.[1];
    return { ok: run.code === 0 && /^\[GNUPG:\] GOODSIG /m.test(run.stdout), signer, output: `${run.stdout}${run.stderr}` };
  } finally {
    removeHome(home);
  }
}
