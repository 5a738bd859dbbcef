/**
 * @module scripts/_sign: the two signatures a release carries, made with the tools people use to
 * check them — GnuPG for the detached OpenPGP signatures beside every file, osslsigncode for the
 * Authenticode signature inside the Windows executables.
 *
 * Keys come from the release manager's environment, never from the repository:
 *
 *   OPENTOE_GPG_KEY_FILE              an exported secret key (armored or binary). It is imported
 *                                     into a new private GNUPGHOME (mkdtemp, 0700) that is removed
 *                                     afterwards, so the manager's own keyring is never touched.
 *   OPENTOE_GPG_KEY                   or: the fingerprint/id of a key the usual GNUPGHOME (or its
 *                                     agent, or a smartcard behind it) already holds.
 *   OPENTOE_GPG_PASSPHRASE_FILE       the key's passphrase, for keys that have one (loopback pinentry).
 *
 *   OPENTOE_AUTHENTICODE_CERT + OPENTOE_AUTHENTICODE_KEY   PEM certificate (chain) and private key
 *   OPENTOE_AUTHENTICODE_PKCS12                             or: one .pfx/.p12 file
 *   OPENTOE_AUTHENTICODE_PASSWORD_FILE                      the key's or PKCS#12's password, if any
 *   OPENTOE_AUTHENTICODE_TIMESTAMP_URL                      an RFC 3161 time-stamping service (optional;
 *                                                           without one the signature stops verifying
 *                                                           when the certificate expires)
 *   OPENTOE_AUTHENTICODE_CAFILE                             the CA bundle the signature is checked
 *                                                           against after signing (default: the PEM
 *                                                           certificate, then the system bundle)
 *
 * Every signature is verified right after it is made, so a wrong key or a broken tool stops the
 * release instead of shipping a signature nobody can check.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface GpgSigner {
  /** The signing key's primary fingerprint: 40 upper-case hex digits. */
  fingerprint: string;
  /** Writes a detached binary signature of `file` to `signature`, then verifies it. */
  sign(file: string, signature: string): void;
  /** The public key, armored, with nothing but what verifying needs. */
  publicKey(): string;
  /** Removes the private GNUPGHOME made for a key file (a no-op for an existing keyring). */
  dispose(): void;
}

export interface AuthenticodeSigner {
  /** Writes a signed copy of the executable `input` to `output`, then verifies it. */
  sign(input: string, output: string): void;
  /** Where the signing material came from, for the build's log. */
  describe: string;
}

type Env = Record<string, string | undefined>;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], env: Env = process.env): Ran {
  const child = Bun.spawnSync([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...env, LC_ALL: "C" } });
  return { code: child.exitCode ?? 1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

function need(tool: string, debianPackage: string): void {
  if (Bun.which(tool) === null) throw new Error(`${tool} is not installed; install it (Debian: apt-get install ${debianPackage}) or unset the signing variables to build unsigned`);
}

function lastLines(text: string, count = 4): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}

/** True when any OpenPGP signing variable is set. */
export function gpgRequested(env: Env = process.env): boolean {
  return Boolean(env.OPENTOE_GPG_KEY_FILE || env.OPENTOE_GPG_KEY);
}

/** True when any Authenticode variable is set. */
export function authenticodeRequested(env: Env = process.env): boolean {
  return Boolean(env.OPENTOE_AUTHENTICODE_CERT || env.OPENTOE_AUTHENTICODE_KEY || env.OPENTOE_AUTHENTICODE_PKCS12);
}

/** Primary-key fingerprints of the secret keys `selector` matches (all, without one). */
function secretFingerprints(gpgBase: readonly string[], selector?: string): string[] {
  const listed = run([...gpgBase, "--with-colons", "--list-secret-keys", ...(selector === undefined ? [] : [selector])]);
  const fingerprints: string[] = [];
  let afterPrimary = false;
  for (const line of listed.stdout.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === "sec") afterPrimary = true;
    else if (fields[0] === "fpr" && afterPrimary) {
      fingerprints.push(fields[9]!);
      afterPrimary = false;
    } else if (fields[0] === "ssb") afterPrimary = false;
  }
  return fingerprints;
}

/**
 * The OpenPGP signer the environment asks for, or undefined when it asks for none. Throws with a
 * sentence to act on when the key cannot be used.
 */
export function gpgSignerFromEnv(env: Env = process.env): GpgSigner | undefined {
  if (!gpgRequested(env)) return undefined;
  need("gpg", "gnupg");
  const passphraseFile = env.OPENTOE_GPG_PASSPHRASE_FILE || undefined;
  if (passphraseFile !== undefined && !existsSync(passphraseFile)) throw new Error(`OPENTOE_GPG_PASSPHRASE_FILE names ${passphraseFile}, which does not exist`);
  let home: string | undefined;
  const keyFile = env.OPENTOE_GPG_KEY_FILE || undefined;
  if (keyFile !== undefined) {
    if (!existsSync(keyFile)) throw new Error(`OPENTOE_GPG_KEY_FILE names ${keyFile}, which does not exist`);
    // Short and private: gpg-agent puts its socket in here, and socket paths have a length limit.
    home = mkdtempSync("/tmp/opentoe-sign-");
  }
  // Without a key file the key is in the release manager's keyring: the GNUPGHOME of `env` (which
  // may not be this process's environment), else gpg's default.
  const homedir = home ?? (env.GNUPGHOME || undefined);
  const base = ["gpg", ...(homedir === undefined ? [] : ["--homedir", homedir]), "--batch", "--no-tty", "--pinentry-mode", "loopback", ...(passphraseFile === undefined ? [] : ["--passphrase-file", passphraseFile])];
  const dispose = () => {
    if (home === undefined) return;
    run(["gpgconf", "--homedir", home, "--kill", "all"]);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    if (keyFile !== undefined) {
      const imported = run([...base, "--import", keyFile]);
      if (imported.code !== 0) throw new Error(`gpg could not import OPENTOE_GPG_KEY_FILE (${keyFile}): ${lastLines(imported.stderr)}`);
    }
    const selector = env.OPENTOE_GPG_KEY || undefined;
    const found = secretFingerprints(base, selector);
    if (found.length === 0) {
      throw new Error(keyFile !== undefined ? `OPENTOE_GPG_KEY_FILE (${keyFile}) holds no secret key${selector === undefined ? "" : ` matching OPENTOE_GPG_KEY=${selector}`}` : `no secret key matches OPENTOE_GPG_KEY=${selector} in ${env.GNUPGHOME ?? "~/.gnupg"}`);
    }
    if (found.length > 1) throw new Error(`${found.length} secret keys match (${found.join(", ")}); set OPENTOE_GPG_KEY to the fingerprint of the release key`);
    const fingerprint = found[0]!;
    return {
      fingerprint,
      sign(file, signature) {
        rmSync(signature, { force: true });
        const made = run([...base, "--local-user", `${fingerprint}!`, "--digest-algo", "SHA512", "--detach-sign", "--output", signature, file]);
        if (made.code !== 0) throw new Error(`gpg could not sign ${file}: ${lastLines(made.stderr)}`);
        const checked = run([...base, "--status-fd", "1", "--verify", signature, file]);
        const signer = /^\[GNUPG:\] VALIDSIG .* ([0-9A-F]{40})$/m.exec(checked.stdout)?.[1];
        if (checked.code !== 0 || signer !== fingerprint) throw new Error(`the signature just made for ${file} does not verify with key ${fingerprint}: ${lastLines(checked.stderr)}`);
      },
      publicKey() {
        const exported = run([...base, "--armor", "--export-options", "export-minimal", "--export", fingerprint]);
        if (exported.code !== 0 || !exported.stdout.includes("BEGIN PGP PUBLIC KEY BLOCK")) throw new Error(`gpg could not export the public key ${fingerprint}: ${lastLines(exported.stderr)}`);
        return exported.stdout;
      },
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}

/** The Authenticode signer the environment asks for, or undefined when it asks for none. */
export function authenticodeSignerFromEnv(env: Env = process.env): AuthenticodeSigner | undefined {
  if (!authenticodeRequested(env)) return undefined;
  need("osslsigncode", "osslsigncode");
  const cert = env.OPENTOE_AUTHENTICODE_CERT || undefined;
  const key = env.OPENTOE_AUTHENTICODE_KEY || undefined;
  const pkcs12 = env.OPENTOE_AUTHENTICODE_PKCS12 || undefined;
  const password = env.OPENTOE_AUTHENTICODE_PASSWORD_FILE || undefined;
  if (pkcs12 === undefined && (cert === undefined || key === undefined)) {
    throw new Error("Authenticode signing needs OPENTOE_AUTHENTICODE_CERT and OPENTOE_AUTHENTICODE_KEY together, or OPENTOE_AUTHENTICODE_PKCS12");
  }
  for (const [name, path] of Object.entries({ OPENTOE_AUTHENTICODE_CERT: cert, OPENTOE_AUTHENTICODE_KEY: key, OPENTOE_AUTHENTICODE_PKCS12: pkcs12, OPENTOE_AUTHENTICODE_PASSWORD_FILE: password })) {
    if (path !== undefined && !existsSync(path)) throw new Error(`${name} names ${path}, which does not exist`);
  }
  const material = pkcs12 !== undefined ? ["-pkcs12", pkcs12] : ["-certs", cert!, "-key", key!];
  const timestamp = env.OPENTOE_AUTHENTICODE_TIMESTAMP_URL ? ["-ts", env.OPENTOE_AUTHENTICODE_TIMESTAMP_URL] : [];
  const systemBundle = "/etc/ssl/certs/ca-certificates.crt";
  const caFile = env.OPENTOE_AUTHENTICODE_CAFILE || cert || (existsSync(systemBundle) ? systemBundle : undefined);
  return {
    describe: pkcs12 !== undefined ? `PKCS#12 ${pkcs12}` : `certificate ${cert}`,
    sign(input, output) {
      rmSync(output, { force: true });
      const made = run(["osslsigncode", "sign", ...material, ...(password === undefined ? [] : ["-readpass", password]), "-h", "sha256", "-n", "awstoe", ...timestamp, "-in", input, "-out", output]);
      if (made.code !== 0) throw new Error(`osslsigncode could not sign ${input}: ${lastLines(`${made.stdout}${made.stderr}`)}`);
      const checked = run(["osslsigncode", "verify", ...(caFile === undefined ? [] : ["-CAfile", caFile]), "-in", output]);
      if (checked.code !== 0 || !/Signature verification: ok/.test(checked.stdout)) {
        throw new Error(`the Authenticode signature just made for ${output} does not verify${caFile === undefined ? "" : ` against ${caFile}`} (set OPENTOE_AUTHENTICODE_CAFILE to the issuing CA): ${lastLines(`${checked.stdout}${checked.stderr}`)}`);
      }
    },
  };
}

/** `gpg --verify` in a new home holding only `publicKey` (armored text): the signer's fingerprint, or an error. */
export function verifyWithKeyOnly(publicKey: string, signature: string, file: string): { ok: boolean; signer?: string; detail: string } {
  const home = mkdtempSync("/tmp/opentoe-verify-");
  try {
    const keyPath = join(home, "key.asc");
    writeFileSync(keyPath, publicKey);
    const base = ["gpg", "--homedir", home, "--batch", "--no-tty"];
    const imported = run([...base, "--import", keyPath]);
    if (imported.code !== 0) return { ok: false, detail: `import: ${lastLines(imported.stderr)}` };
    const checked = run([...base, "--status-fd", "1", "--verify", signature, file]);
    const signer = /^\[GNUPG:\] VALIDSIG .* ([0-9A-F]{40})$/m.exec(checked.stdout)?.[1];
    return { ok: checked.code === 0 && signer !== undefined, signer, detail: lastLines(checked.stderr) };
  } finally {
    run(["gpgconf", "--homedir", home, "--kill", "all"]);
    rmSync(home, { recursive: true, force: true });
  }
}
