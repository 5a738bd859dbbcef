/** @module document/rules/structure: phases and steps — names, required phases, actions, platforms. */
import { REQUIRED_PHASE_NAMES } from "../../model/component.ts";
import { didYouMean, guess } from "../../model/suggest.ts";
import { ACTION_NAMES, findModule } from "../../modules/index.ts";
import { phasesOf, stepsOf, textOf, type RuleContext } from "./_context.ts";

export function checkPhases(ctx: RuleContext): void {
  const phases = phasesOf(ctx.doc);
  if (phases.length === 0) return; // the schema already reported missing or empty phases
  const seen = new Map<string, number>();
  for (const { name, path, index } of phases) {
    if (name === undefined) continue;
    if (seen.has(name)) {
      ctx.issues.push({ code: "E_DUPLICATE_PHASE", path: [...path, "name"], message: `duplicate phase name '${name}'`, hint: `phase ${seen.get(name)! + 1} already has this name; merge the two or rename one` });
    } else seen.set(name, index);
  }
  const names = [...seen.keys()];
  if (!names.some((n) => (REQUIRED_PHASE_NAMES as readonly string[]).includes(n))) {
    const suggestion = names.map((n) => didYouMean(n, REQUIRED_PHASE_NAMES)).find((s) => s !== "") ?? "";
    ctx.issues.push({
      code: "E_NO_KNOWN_PHASE",
      path: ["phases"],
      at: "key",
      message: `document must contain a build, validate or test phase (it has ${names.map((n) => `'${n}'`).join(", ") || "none"})${suggestion}`,
    });
  }
}

export function checkSteps(ctx: RuleContext): void {
  const seenInPhase = new Map<number, Set<string>>();
  for (const ref of stepsOf(ctx.doc)) {
    const names = seenInPhase.get(ref.phaseIndex) ?? new Set<string>();
    seenInPhase.set(ref.phaseIndex, names);
    if (ref.stepName !== undefined) {
      if (names.has(ref.stepName)) {
        ctx.issues.push({ code: "E_DUPLICATE_STEP", path: [...ref.path, "name"], message: `duplicate step name '${ref.stepName}' in phase '${ref.phaseName ?? ref.phaseIndex}'`, hint: "step names must be unique within a phase; chaining uses them" });
      }
      names.add(ref.stepName);
      if (ref.stepName.includes(".")) {
        ctx.issues.push({ code: "E_VALUE", severity: "warning", path: [...ref.path, "name"], message: `step name '${ref.stepName}' contains '.', so later steps cannot chain to it` });
      }
    }
    checkAction(ctx, ref.step, ref.path);
  }
}

function checkAction(ctx: RuleContext, step: Record<string, unknown>, path: readonly (string | number)[]): void {
  const action = textOf(step.action);
  if (action === undefined) return; // missing or wrongly typed: reported by the schema
  const module = findModule(action);
  if (module === undefined) {
    const meant = guess(action, ACTION_NAMES);
    ctx.issues.push({
      code: "E_UNKNOWN_ACTION",
      path: [...path, "action"],
      message: `unknown action '${action}'${meant.text}`,
      ...(meant.match === undefined ? {} : { suggestion: meant.match }),
      hint: "action names are case-sensitive; `awstoe schema` lists them all",
    });
    return;
  }
  if (!module.platforms.includes(ctx.platform)) {
    ctx.issues.push({
      code: "E_ACTION_UNSUPPORTED_ON_PLATFORM",
      path: [...path, "action"],
      message: `action '${action}' is not supported on ${ctx.platform}`,
      hint: `${action} runs on ${module.platforms.join(", ")}; validate for another platform with --platform`,
    });
  }
  const fixed = module.fixedStepFields;
  if (fixed !== undefined) {
    for (const [field, required] of Object.entries(fixed)) {
      if (step[field] !== undefined && step[field] !== required) {
        ctx.issues.push({
          code: "E_EXECUTE_DOCUMENT_FIELDS",
          path: [...path, field],
          message: `${action} does not allow ${field} to be changed (it is always ${required})`,
          hint: `remove ${field} from this step`,
        });
      }
    }
  }
}
