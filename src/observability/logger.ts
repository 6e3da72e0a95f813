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
 * 8% of CPU under load), flushed at least every 250 ms and on shutdown (`flushLogs`, asynchronous and
 * bounded).
 *
 * Nothing here ever writes synchronously, because a synchronous flush can hold the process forever:
 * sonic-boom 4's `flushSync` sleeps 100 ms and retries on every write error but EAGAIN, so once the log
 * reader is gone (EPIPE) it never returns (fixed in sonic-boom 5, which pino 10 does not use yet), and an exit hook calling it kept a SIGTERM'd gateway alive for hours
 * (seen: main thread in Atomics.wait, one failed write(1) every 100 ms). So pino gets no `flushSync` (it
 * calls one after `fatal`), there is no exit hook, and lines still buffered when the process exits any
 * other way than through `flushLogs` (a crash, the hard exit timer) are lost. Once a write fails for
 * good (EPIPE: nobody reads), further lines are dropped instead of buffered; while stdout is merely
 * full, at most MAX_BUFFERED_BYTES wait in memory and newer lines are dropped.
 */
function bufferedStdout(): DestinationStream {
  // Touching process.stdout makes a pipe non-blocking (libuv), so a full pipe answers EAGAIN instead of
  // parking a thread in write(2) that exit would then wait for.
  void process.stdout;
  const boom = new SonicBoom({ fd: 1, sync: false, minLength: 4096, maxLength: MAX_BUFFERED_BYTES });
  let gone = false;
  // A log destination that fails (EPIPE: the consumer died) must not take the service down with it.
  boom.on("error", () => {
    gone = true;
  });
  setInterval(() => {
    if (!gone) boom.flush();
  }, 250).unref();
  const destination: DestinationStream & { flush(cb?: (err?: Error) => void): void } = {
    write: (line) => {
      if (!gone) boom.write(line);
    },
    flush: (cb) => {
      if (gone) cb?.();
      else boom.flush(cb);
    },
  };
  return destination;
}

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
