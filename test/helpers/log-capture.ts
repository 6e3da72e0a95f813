import { Writable } from "node:stream";

/** A pino destination that keeps every line, so tests can read what usergraph logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (const line of chunk.toString().split("\n")) if (line !== "") this.lines.push(line);
    callback();
  }

  /** Parsed lines whose `msg` is the given message. */
  entries(msg?: string): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => msg === undefined || e.msg === msg);
  }

  text(): string {
    return this.lines.join("\n");
  }
}
