import { type FSWatcher, lstatSync, realpathSync, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { unsupportedSettings } from "../../app/unsupported-settings.js";
import { ConfigInvalid, type ConfigIssue, formatConfigIssue } from "../../config/config-invalid.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import type { Logger } from "../../ports/logger.js";
import { decodeConfigText } from "./decode-config-text.js";
import { parseConfigOffThread } from "./parse-config-off-thread.js";

/** Sections a reload cannot change in a running process: they take effect after a restart. */
const RESTART_SECTIONS = ["listen", "limits", "store", "auth", "adapters"] as const;

/** Said with a reload refused for a `${VAR}` that is not set. */
const ENV_HINT =
  "a reload reads environment variables from the environment herald serve started with; to add or change one, restart it";

/** Why a reload was asked for. */
export type ReloadTrigger = "SIGHUP" | "file change";

export interface ConfigReloaderOptions {
  /** The config file, absolute. */
  readonly path: string;
  readonly env: Env;
  readonly logger: Logger;
  /** The config the process started with (for "needs a restart" warnings). */
  readonly running: HeraldConfig;
  /**
   * Swaps in a new config's subscriptions; throws to refuse it (e.g. an id clash with an API
   * subscription), leaving the old set in place.
   */
  readonly apply: (config: HeraldConfig) => void;
  /** The file's text the running config came from: a file event with the same text is a no-op. */
  readonly initialText?: string;
  /**
   * Files the running config read at start whose text changed since (`auth.issuers[].jwks` key
   * files): a reload does not read them again, so it warns that they need a restart, as for the
   * sections. A changed key file leaves the config text as it was: without this a SIGHUP sent to
   * withdraw a key would say "config reloaded" while the key is still trusted.
   */
  readonly changedFiles?: () => Promise<readonly string[]>;
  /** Watch the file and reload when it changes (default true). */
  readonly watch?: boolean;
  /** How long file events settle before a reload, in ms (editors write in several steps). */
  readonly debounceMs?: number;
  /**
   * How long a file change that removes subscriptions waits for the file to stay as it is before
   * it applies, in ms (default 1000): see `reloadNow`.
   */
  readonly removalSettleMs?: number;
}

export interface ConfigReloader {
  /** Reads the file again and applies it; resolves `true` when the new config is in use. */
  reload(trigger: ReloadTrigger): Promise<boolean>;
  close(): void;
}

/**
 * Reloads `herald serve`'s config on demand (SIGHUP, wired by the CLI) and when the file changes.
 * A reload swaps the subscription set atomically; a config that does not parse, asks for what this
 * version cannot do, or cannot be applied is refused with an error log, and the old one stays.
 * Changes to `listen`, `limits`, `store`, `auth` or `adapters`, and to the files named by
 * `changedFiles` (JWKS key files), are logged as needing a restart. An empty file is refused too (a file caught mid-rewrite would otherwise remove every
 * subscription), and the new config's warnings (`configWarnings`) are logged as at start. A file
 * change that removes subscriptions applies only once the file stayed the same `removalSettleMs`.
 *
 * The directory is watched, not the file: editors and config tools often replace a file by
 * renaming a new one over it, which ends a watch on the file itself. Reloads run one at a time,
 * and a file event whose text is the same as the last applied one changes nothing.
 *
 * @example
 * const reloader = createConfigReloader({ path, env, logger, running: config,
 *   apply: (next) => gateway.subscriptions.replaceConfigured(next.subscriptions) });
 * process.on("SIGHUP", () => void reloader.reload("SIGHUP"));
 */
export function createConfigReloader(options: ConfigReloaderOptions): ConfigReloader {
  const { path, env, logger, running, apply, debounceMs = 150, removalSettleMs = 1000 } = options;
  let lastText = options.initialText;
  /** The ids of the config's subscriptions as last applied. */
  let configuredIds = new Set(running.subscriptions.map((s) => s.id));
  let chain: Promise<boolean> = Promise.resolve(true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const watching = options.watch !== false;
  /** The watchers by `dir` + `name`, so a relinked file's new target is watched too. */
  const watchers = new Map<string, FSWatcher>();

  async function reloadNow(trigger: ReloadTrigger): Promise<boolean> {
    // A link on the way may point elsewhere now: watch the file it reaches today.
    rewatch();
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      // Mid-rename the file can be missing for a moment; the next event brings it back.
      const why = error instanceof Error ? error.message : String(error);
      logger.error("config reload refused: cannot read the file; the old config stays", {
        trigger,
        config: path,
        error: why,
      });
      return false;
    }
    let text: string | undefined;
    let next: HeraldConfig;
    let warnings: readonly ConfigIssue[];
    try {
      // As at start: UTF-8 only, a file that is not is refused (see decodeConfigText).
      text = decodeConfigText(bytes, path);
      if (trigger === "file change" && text === lastText) return true;
      if (text.trim() === "") {
        // Valid at start (every default), but as a reload it would remove every subscription and
        // drop their queued deliveries: far more often a file caught while being rewritten
        // (truncated, not yet written) than a wish, which `subscriptions: []` says plainly.
        logger.error(
          "config reload refused: the file is empty (still being written?); the old config stays. To remove every subscription, write `subscriptions: []`",
          { trigger, config: path },
        );
        lastText = text;
        return false;
      }
      // On a worker thread: a big config takes seconds, and ingest must not stall meanwhile.
      ({ config: next, warnings } = await parseConfigOffThread(text, path, env));
    } catch (error) {
      if (!(error instanceof ConfigInvalid)) throw error;
      // A variable exported after the start (a shell, a changed Secret) cannot reach a running
      // process: said, so the user does not keep reloading in the hope of it being read.
      const unsetVariable = error.issues.some((issue) =>
        /^environment variable \S+ is not set$/.test(issue.message),
      );
      logger.error("config reload refused: the new config is invalid; the old config stays", {
        trigger,
        config: path,
        errors: error.message.split("\n"),
        ...(unsetVariable ? { hint: ENV_HINT } : {}),
      });
      lastText = text;
      return false;
    }
    // Closed while the worker parsed: the gateway is stopping, nothing is applied any more.
    if (closed) return false;
    const unsupported = unsupportedSettings(next);
    if (unsupported.length > 0) {
      logger.error(
        "config reload refused: settings this version cannot honour; the old config stays",
        {
          trigger,
          config: path,
          errors: unsupported,
        },
      );
      lastText = text;
      return false;
    }
    // A file truncated and written again in pieces can be caught half-written, and the first
    // subscriptions of a list are a valid config: applied, the others' queued deliveries would be
    // dropped for good. So a file change that removes any waits a little longer and applies only
    // when the file is still the same; otherwise the write that changed it reloads again.
    const nextIds = new Set(next.subscriptions.map((s) => s.id));
    if (trigger === "file change" && [...configuredIds].some((id) => !nextIds.has(id))) {
      logger.debug("config change removes subscriptions; applied once the file stays the same", {
        config: path,
        waitMs: removalSettleMs,
      });
      await new Promise((resolve) => setTimeout(resolve, removalSettleMs));
      if (closed) return false;
      const again = await readFile(path).catch(() => undefined);
      if (again === undefined || !Buffer.from(bytes).equals(again)) return false;
    }
    try {
      apply(next);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      logger.error("config reload refused; the old config stays", {
        trigger,
        config: path,
        error: why,
      });
      lastText = text;
      return false;
    }
    lastText = text;
    configuredIds = nextIds;
    const restart = RESTART_SECTIONS.filter(
      (section) => JSON.stringify(next[section]) !== JSON.stringify(running[section]),
    );
    const files = (await options.changedFiles?.().catch(() => [])) ?? [];
    if (restart.length > 0 || files.length > 0) {
      logger.warn("config changes that take effect only after a restart", {
        ...(restart.length > 0 ? { sections: restart } : {}),
        ...(files.length > 0 ? { files } : {}),
      });
    }
    // As at start: valid settings that are probably not meant (a short signing key) are said.
    for (const warning of warnings) {
      logger.warn(formatConfigIssue(warning));
    }
    logger.info("config reloaded", {
      trigger,
      config: path,
      subscriptions: next.subscriptions.length,
    });
    return true;
  }

  function reload(trigger: ReloadTrigger): Promise<boolean> {
    const run = chain.then(() => reloadNow(trigger));
    chain = run.catch(() => false);
    return run;
  }

  function changed(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      reload("file change").catch((error: unknown) => {
        logger.error("config reload failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }, debounceMs);
  }

  /**
   * Watches what `watchedNames` says for the file as it is linked now, and stops watching what it
   * no longer says: after a link is pointed at another file, that file's writes are the ones that
   * change the config, and the old target's change nothing.
   */
  function rewatch(): void {
    if (!watching || closed) return;
    const wanted = new Map<string, WatchedName>(
      watchedNames(path).map((w) => [`${w.dir}\0${w.name ?? ""}`, w]),
    );
    for (const [key, watcher] of watchers) {
      if (!wanted.has(key)) {
        watcher.close();
        watchers.delete(key);
      }
    }
    for (const [key, { dir, name }] of wanted) {
      if (watchers.has(key)) continue;
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, (_event, changedName) => {
          if (name === undefined || changedName === null || changedName === name) changed();
        });
      } catch (error) {
        // A target's folder that is gone (a dangling link): the link's folder is still watched.
        logger.warn("cannot watch a folder of the config file; SIGHUP still reloads it", {
          folder: dir,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      watcher.on("error", (error) => {
        // Forgotten, so the next reload watches that folder again if it can.
        if (watchers.get(key) === watcher) watchers.delete(key);
        watcher.close();
        logger.warn("stopped watching the config file; SIGHUP still reloads it", {
          error: error.message,
        });
      });
      watchers.set(key, watcher);
    }
  }

  rewatch();

  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

/**
 * The folders to watch for changes of the config file, and the name to look for in each
 * (`undefined`: any change there may be one). A plain file: its folder, its name. A symbolic link
 * changes without an event for its own name when a link it goes through is swapped (a Kubernetes
 * ConfigMap volume renames `..data` to point at the new version), or when its target is written
 * in another folder: so any change in the link's folder counts, and so does the target's in its
 * own (watched again at each reload, so a link pointed at another file has that file watched). A
 * change that leaves the text as it was applies nothing.
 */
interface WatchedName {
  readonly dir: string;
  readonly name: string | undefined;
}

function watchedNames(path: string): WatchedName[] {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    // Missing now: watched as a plain file; the next event brings it back.
  }
  if (!link) return [{ dir: dirname(path), name: basename(path) }];
  const watched: WatchedName[] = [{ dir: dirname(path), name: undefined }];
  try {
    const target = realpathSync(path);
    if (dirname(target) !== dirname(path)) {
      watched.push({ dir: dirname(target), name: basename(target) });
    }
  } catch {
    // A dangling link: its folder is watched, which is where it will be repaired.
  }
  return watched;
}
