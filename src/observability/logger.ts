import pino, { type DestinationStream, type Logger } from "pino";
import SonicBoom from "sonic-boom";

/**
 * Remembers every secret the process holds (configured secrets, live tokens) and blanks them out of any
 * text. It runs on each finished log line, so a secret that a library echoes inside an error message or a
 * request option is caught too, not only the fields we thought of.
 */
export class Redactor {
  /** Configured credentials: kept for the life of the process. Values: the JSON-escaped form. */
  private readonly fixed = new Map<string, string>();
  /** Tokens seen at run time: bounded, oldest first out (an expired token is harmless). */
  private readonly rolling = new Map<string, string>();
  private static readonly MAX_ROLLING = 64;

  /** A configured secret (client secret, password). */
  addSecret(secret: string | undefined): void {
    if (isWorthRedacting(secret)) this.fixed.set(secret, escapeJson(secret));
  }

  /** A token obtained at run time (access or refresh token). */
  addToken(token: string | undefined): void {
    if (!isWorthRedacting(token) || this.rolling.has(token)) return;
    this.rolling.set(token, escapeJson(token));
    if (this.rolling.size > Redactor.MAX_ROLLING) this.rolling.delete(this.rolling.keys().next().value as string);
  }

  scrub(text: string): string {
    let out = text;
    for (const map of [this.fixed, this.rolling]) {
      for (const [secret, escaped] of map) {
        if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
        // The JSON-escaped form, for secrets with quotes or backslashes inside a serialized log line.
        if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join("[REDACTED]");
      }
    }
    return out;
  }
}

function escapeJson(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** Very short values would blank out ordinary words; nobody configures a 3-character secret. */
function isWorthRedacting(secret: string | undefined): secret is string {
  return secret !== undefined && secret.length >= 4;
}

export interface LoggerOptions {
  level: string;
  redactor: Redactor;
  /** Where lines go; stdout by default. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "usergraph" },
      // Secrets are blanked from each finished line (Redactor), which also covers what no path list
      // would: a library echoing a secret inside a message. `time` stays epoch milliseconds (cheapest).
      hooks: { streamWrite: (line) => options.redactor.scrub(line) },
    },
    options.destination ?? bufferedStdout(),
  );
}

/**
 * stdout through a 4 KiB buffer: one write syscall per few dozen lines instead of one per line (it was
 * 8% of CPU under load), flushed at least every 250 ms and on shutdown (`flushLogs`).
 *
 * Built on sonic-boom directly rather than `pino.destination()`, because pino's destination registers an
 * exit hook that flushes synchronously and retries EAGAIN forever: with a log consumer that stopped
 * reading, the process never exited after SIGTERM (seen: alive 10 minutes later, in the flush's sleep
 * loop). Here the exit flush retries for at most EXIT_FLUSH_MS and then drops what is left; while stdout
 * is blocked, at most MAX_BUFFERED_BYTES wait in memory and newer lines are dropped.
 */
function bufferedStdout(): DestinationStream {
  // Touching process.stdout makes a pipe non-blocking (libuv), so a full pipe answers EAGAIN instead of
  // parking a thread in write(2) that exit would then wait for.
  void process.stdout;
  let giveUpAt = Number.POSITIVE_INFINITY;
  const destination = new SonicBoom({
    fd: 1,
    sync: false,
    minLength: 4096,
    maxLength: MAX_BUFFERED_BYTES,
    retryEAGAIN: () => Date.now() < giveUpAt,
  });
  // A log destination that fails (EPIPE: the consumer died) must not take the service down with it.
  destination.on("error", () => {});
  setInterval(() => {
    try {
      destination.flush();
    } catch {
      // destroyed after an error: nothing more to write
    }
  }, 250).unref();
  process.once("exit", () => {
    giveUpAt = Date.now() + EXIT_FLUSH_MS;
    try {
      destination.flushSync();
    } catch {
      // stdout still full (or gone) after EXIT_FLUSH_MS: the remaining lines are lost, the exit is not.
    }
  });
  return destination;
}

/** How long the synchronous flush at exit may retry a full stdout. */
const EXIT_FLUSH_MS = 500;
/** Log bytes held in memory while stdout does not drain; past this, lines are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Flushes the logger, waiting at most `ms`: a stalled log consumer must not hold shutdown. */
export function flushLogs(log: Logger, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    try {
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
