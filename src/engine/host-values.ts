/**
 * @module engine/host-values: what `{{ env: }}`, `{{ context: }}`, `{{ aws:imds: }}` and
 * `{{ aws:ssm: }}` references resolve to (docs/component-documents.md §2.2).
 *
 * Rendering is synchronous (expr/render.ts), so before a step is compiled the engine asks
 * `prefetch` for everything its references need from the network; `lookup` then answers from
 * what was fetched. Values are fetched when the step that uses them starts — not when the run
 * starts — so a parameter changed during a long build, or after a reboot, is read as it is then.
 * Each Parameter Store name and metadata path is fetched once per execution (per awstoe process:
 * a resumed run fetches again, since secrets are never stored). Secret values are given to the
 * execution's Masker before anything can print them.
 */
import { ResolveError } from "../errors.ts";
import type { AccountPort, MetadataPort, ParameterPort, ParameterValue } from "../model/ports.ts";
import type { PlatformName } from "../model/platform.ts";
import { isRecord } from "../model/platform.ts";
import type { HostLookup } from "../expr/scope.ts";
import { CONTEXT_KEYS, classifyReference, credentialPath, findReferences, type HostReference } from "../expr/template.ts";
import type { Masker } from "../logs/mask.ts";

/** The machine and AWS, as host references see them (engine/deps.ts EnginePorts.host). */
export interface HostPorts {
  env: NodeJS.ProcessEnv;
  hostname(): string;
  /** The operating system's name and version (Linux: /etc/os-release NAME and VERSION_ID). */
  os(): { name: string; version: string };
  metadata: MetadataPort;
  parameters: ParameterPort;
  account: AccountPort;
}

export interface HostValuesOptions {
  ports: HostPorts;
  platform: PlatformName;
  executionId: string;
  masker: Masker;
  now(): Date;
  newUuid(): string;
  signal?: AbortSignal;
}

type Fetched<T> = { ok: true; value: T } | { ok: false; message: string };

/** A step's lookup, and whether it handed out a secret (its generated files are removed after it). */
export interface StepLookup extends HostLookup {
  readonly usedSecret: boolean;
}

export class HostValues {
  private readonly parameters = new Map<string, Fetched<ParameterValue>>();
  private readonly metadata = new Map<string, Fetched<string>>();
  /** The identity document, asked once however many references want it at the same time. */
  private where: Promise<Fetched<{ accountId: string; region: string }>> | undefined;
  private whereAccount: Fetched<string> | undefined;
  private whereRegion: Fetched<string> | undefined;

  constructor(private readonly options: HostValuesOptions) {}

  /**
   * Fetches what the references in `step` (inputs, loop, if) need from the network. Never
   * rejects: a failure is kept and thrown, worded, by the lookup that needs it, which fails the step.
   * Parameter names given as `resolve(P)` are read from `variables`.
   */
  async prefetch(step: Record<string, unknown>, variables: ReadonlyMap<string, string>): Promise<void> {
    // Each name once, however often the step mentions it.
    const work = new Map<string, () => Promise<void>>();
    for (const reference of hostReferencesIn([step.inputs, step.loop, step.if])) {
      if (reference.kind === "ssm") {
        const name = reference.through === undefined ? reference.name : variables.get(reference.through)?.trim();
        if (name) work.set(`ssm:${name}`, () => this.fetchParameter(name));
      } else if (reference.kind === "imds") {
        if (!credentialPath(reference.path)) work.set(`imds:${reference.path}`, () => this.fetchMetadata(reference.path));
      } else if (reference.kind === "context" && needsNetwork(reference)) {
        const key = reference.key as "accountId" | "region"; // the two context keys needsNetwork names
        work.set(`context:${key}`, () => this.fetchWhere(key));
      }
    }
    await Promise.all([...work.values()].map((fetch) => fetch()));
  }

  /** Answers the references of the step `phase/step` (after its prefetch). */
  lookup(phase: string, step: string): StepLookup {
    let usedSecret = false;
    const lookup: StepLookup = {
      get usedSecret() {
        return usedSecret;
      },
      resolve: (reference) => {
        if (reference.kind === "ssm") {
          const value = this.parameterValue(reference.name);
          if (value.secret) usedSecret = true;
          return value.value;
        }
        return this.resolveLocal(reference, phase, step);
      },
    };
    return lookup;
  }

  private resolveLocal(reference: Exclude<HostReference, { kind: "ssm" }>, phase: string, step: string): string {
    switch (reference.kind) {
      case "env": {
        const value = this.options.ports.env[reference.name];
        if (value === undefined) throw fail(`env:${reference.name}`, `the environment variable '${reference.name}' is not set for awstoe (names are matched exactly)`);
        return value;
      }
      case "imds": {
        if (credentialPath(reference.path)) throw fail(`aws:imds:${reference.path}`, "instance metadata under iam/ and identity-credentials/ holds credentials and is never read");
        return settled(this.metadata.get(reference.path), `aws:imds:${reference.path}`);
      }
      case "context":
        return this.contextValue(reference.key, phase, step);
    }
  }

  private contextValue(key: string, phase: string, step: string): string {
    const { ports, platform } = this.options;
    const now = this.options.now();
    switch (key as (typeof CONTEXT_KEYS)[number]) {
      case "executionId":
        return this.options.executionId;
      case "accountId":
        return settled(this.whereAccount, "context:accountId");
      case "region":
        return settled(this.whereRegion, "context:region");
      case "osPlatform":
        return platform === "macos" ? "darwin" : platform;
      case "osName":
        return ports.os().name;
      case "osVersion":
        return ports.os().version;
      case "date":
        return now.toISOString().slice(0, 10);
      case "dateTime":
        return `${now.toISOString().slice(0, 19)}Z`;
      case "uuid":
        return this.options.newUuid();
      case "hostname":
        return ports.hostname();
      case "phase":
        return phase;
      case "step":
        return step;
    }
    throw fail(`context:${key}`, `'${key}' is not a context key (known: ${CONTEXT_KEYS.join(", ")})`);
  }

  private parameterValue(name: string): ParameterValue {
    const fetched = this.parameters.get(name);
    if (fetched === undefined) throw fail(`aws:ssm:${name}`, "it was not fetched before the step started (a bug in awstoe; please report it)");
    if (!fetched.ok) throw fail(`aws:ssm:${name}`, fetched.message);
    return fetched.value;
  }

  private async fetchParameter(name: string): Promise<void> {
    if (this.parameters.get(name)?.ok) return; // once per execution; a failure is tried again by a later step
    const fetched = await attempt(() => this.options.ports.parameters.get(name, this.options.signal));
    // The masker knows a secret before any text that could carry it is written.
    if (fetched.ok && fetched.value.secret) this.options.masker.add(fetched.value.value);
    this.parameters.set(name, fetched);
  }

  private async fetchMetadata(path: string): Promise<void> {
    if (this.metadata.get(path)?.ok) return;
    this.metadata.set(path, await attempt(() => this.options.ports.metadata.get(path, this.options.signal)));
  }

  /**
   * accountId and region: the instance identity document on EC2; elsewhere the SDK's configured
   * region and the account of the current credentials (STS), as the AWS CLI would see them.
   */
  private async fetchWhere(key: "accountId" | "region"): Promise<void> {
    const { metadata, account } = this.options.ports;
    if (this.where === undefined || !(await this.where).ok) {
      this.where = attempt(async () => {
        const identity = await metadata.identity(this.options.signal);
        if (identity === undefined) throw new Error("not on EC2");
        return identity;
      });
    }
    const where = await this.where;
    if (where.ok) {
      this.whereAccount = { ok: true, value: where.value.accountId };
      this.whereRegion = { ok: true, value: where.value.region };
      return;
    }
    if (key === "region" && !this.whereRegion?.ok) {
      this.whereRegion = await attempt(async () => {
        const region = await account.region();
        if (region === undefined) throw new Error("awstoe is not on EC2 (no instance metadata) and no region is configured; set AWS_REGION");
        return region;
      });
    }
    if (key === "accountId" && !this.whereAccount?.ok) {
      this.whereAccount = await attempt(() => account.accountId(this.options.signal));
    }
  }
}

/** References whose value comes over the network (Parameter Store, instance metadata, STS): a plan shows them as written. */
export function needsNetwork(reference: HostReference): boolean {
  return reference.kind === "ssm" || reference.kind === "imds" || (reference.kind === "context" && (reference.key === "accountId" || reference.key === "region"));
}

/** Every host reference in the strings of `values` (any depth). */
export function hostReferencesIn(values: readonly unknown[]): HostReference[] {
  const found: HostReference[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const ref of findReferences(value)) {
        const reference = classifyReference(ref.expr);
        if (reference.kind === "env" || reference.kind === "context" || reference.kind === "imds" || reference.kind === "ssm") found.push(reference);
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isRecord(value)) Object.values(value).forEach(visit);
  };
  values.forEach(visit);
  return found;
}

async function attempt<T>(work: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

function settled(fetched: Fetched<string> | undefined, expr: string): string {
  if (fetched === undefined) throw fail(expr, "it was not fetched before the step started (a bug in awstoe; please report it)");
  if (!fetched.ok) throw fail(expr, fetched.message);
  return fetched.value;
}

function fail(expr: string, why: string): ResolveError {
  return new ResolveError(`'{{ ${expr} }}' could not be resolved: ${why}`, expr);
}
