/**
 * @module engine/step-watch: what a person sees while one step runs.
 *
 * - On a terminal: a live line at the bottom — document, phase/step, action, elapsed time —
 *   redrawn in place each second; and the step's header line before its first output, so output
 *   is never anonymous. A quiet step shows the live line and nothing else.
 * - Off a terminal (CI, SSM, pipes): the engine prints a line when the step starts and ends; here,
 *   a heartbeat line when the step has been quiet for the heartbeat interval (and again after each
 *   further interval), so a log that stops moving still says what is running.
 * - Under GitHub Actions (GITHUB_ACTIONS=true): the step's output is folded in a ::group::.
 * Timers are unref'd and cleared at the end of the step: they never keep awstoe alive.
 */

export interface WatchLog {
  live(text: string | undefined): void;
  progress(plain: string, coloured?: string): void;
  terminalLine(text: string): void;
}

export interface WatchSettings {
  interactive: boolean;
  github: boolean;
  /** Quiet time after which a heartbeat line is printed (off a terminal). */
  heartbeatMs: number;
}

/** A step's live line appears once it has run this long, and is redrawn this often. */
const LIVE_DELAY_MS = 250;
const LIVE_REDRAW_MS = 1000;

/** The default heartbeat: a step quiet for this long gets a line saying it is still running. */
export const HEARTBEAT_DEFAULT_SECONDS = 30;

export class StepWatch {
  private readonly started = performance.now();
  private lastOutput = this.started;
  private headerShown = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private firstDraw: ReturnType<typeof setTimeout> | undefined;
  private drawn = false;

  constructor(
    private readonly log: WatchLog,
    private readonly settings: WatchSettings,
    /** `[document] phase/step`. */
    private readonly where: string,
    private readonly action: string,
  ) {
    if (settings.github) log.terminalLine(`::group::${where} (${action})`);
    if (settings.interactive) {
      // Drawn once the step has taken a moment: a step that ends at once needs no live line, and
      // drawing and clearing one for each of hundreds of quick steps costs more than the steps.
      this.timer = setInterval(() => this.drawLive(), LIVE_REDRAW_MS);
      this.firstDraw = setTimeout(() => this.drawLive(), LIVE_DELAY_MS);
      (this.firstDraw as { unref?: () => void }).unref?.();
    } else if (settings.heartbeatMs > 0) {
      this.timer = setInterval(() => this.heartbeat(), Math.min(settings.heartbeatMs, 1000));
    }
    (this.timer as { unref?: () => void } | undefined)?.unref?.();
  }

  /** The step printed something (called before it is written). */
  output(): void {
    this.lastOutput = performance.now();
    if (this.settings.interactive && !this.headerShown) {
      this.headerShown = true;
      this.log.progress(`${this.where} (${this.action}):`);
    }
  }

  /** The step is over: timers stop, the live line goes, the group closes. */
  end(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.firstDraw !== undefined) clearTimeout(this.firstDraw);
    this.timer = undefined;
    if (this.settings.interactive && this.drawn) this.log.live(undefined);
    if (this.settings.github) this.log.terminalLine("::endgroup::");
  }

  private drawLive(): void {
    this.drawn = true;
    this.log.live(`▶ ${this.where} ${this.action} ${elapsed(performance.now() - this.started)}`);
  }

  private heartbeat(): void {
    const now = performance.now();
    if (now - this.lastOutput < this.settings.heartbeatMs) return;
    this.lastOutput = now; // the next one after another interval of quiet
    this.log.progress(`${this.where}: still running ${this.action} after ${elapsed(now - this.started)} (no output for ${elapsed(this.settings.heartbeatMs)})`);
  }
}

/** 7 s, 1 min 05 s, 1 h 02 min. */
export function elapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}
