// Every side effect /init has goes through this interface, so the stage logic
// can be driven by a recording fake in the unit tests.

import type { MountOp } from './mount-op';

export interface RunResult {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** What the program sees as its argv[0] (e.g. "@unionfs"), where that differs from the file run. */
  readonly argv0?: string;
  /** Written to the program's stdin, which is then closed (otherwise stdin is /dev/null): a secret never goes in argv. */
  readonly input?: Uint8Array;
}

export interface HttpRequest {
  readonly headers?: Readonly<Record<string, string>>;
  /** The request fails when this long passes without a byte from the server. */
  readonly idleTimeoutMs: number;
  /** https: the CA certificates (PEM) the server's must chain to, instead of Node's own; or no check at all. */
  readonly tls?: { readonly ca: string | null; readonly insecure: boolean };
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body in pieces as they arrive; throws where the connection breaks. */
  readonly body: AsyncIterable<Uint8Array>;
}

type PathKind = 'file' | 'dir' | 'symlink' | 'other';

export interface PathInfo {
  readonly kind: PathKind;
  /** Permission bits (st_mode & 0o7777). */
  readonly mode: number;
  readonly size: number;
}

export interface System {
  /** Runs argv[0] (looked up in PATH) with the rest as arguments; never through a shell. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Makes a mount, move, bind or read-only mark; fails as its command would (see mount-op.ts). */
  mount(op: MountOp): Promise<RunResult>;
  readText(path: string): string;
  /** Reads up to `length` bytes from the start of a file or device. */
  readHead(path: string, length: number): Uint8Array;
  /** `mode`: the file's permission bits, set whether the file is new or not. */
  writeText(path: string, text: string, mode?: number): void;
  /** Adds `bytes` at the end of a file, made if missing. */
  appendBytes(path: string, bytes: Uint8Array): void;
  /** One HTTP or HTTPS GET; fails as Node's client does (refused, unresolved, a bad certificate). */
  httpGet(url: string, request: HttpRequest): Promise<HttpResponse>;
  /** A TCP connection to `host` (a name resolved as Node does) opened and closed again: the address it reached, or why not within `timeoutMs`. */
  connectTcp(host: string, port: number, timeoutMs: number): Promise<{ readonly address: string } | { readonly error: string }>;
  /** Makes (or extends) a file of `bytes` that takes no space until written. */
  createSparseFile(path: string, bytes: number): void;
  copyFile(from: string, to: string): Promise<void>;
  /** The SHA-256 of a file, in hex, read in pieces; `progress` gets the bytes read so far after each. */
  sha256(path: string, progress: (bytes: number) => void): Promise<string>;
  mkdirp(path: string): void;
  /** Like lstat: does not follow a final symlink. Null when nothing is there. */
  lstat(path: string): PathInfo | null;
  readlink(path: string): string;
  /** Makes `path` a symlink to `target`, replacing what was there. */
  symlink(target: string, path: string): void;
  readdir(path: string): string[];
  /** Resolves true as soon as `path` exists, false after `timeoutMs`. */
  waitForPath(path: string, timeoutMs: number): Promise<boolean>;
  /** How many changes /dev has seen (nodes made or removed, anywhere below it). */
  deviceEvents(): number;
  /** Resolves once /dev has seen more than `seen` changes, or after `timeoutMs`. */
  waitForDeviceEvent(seen: number, timeoutMs: number): Promise<void>;
  /** Milliseconds from a monotonic clock. */
  now(): number;
  sleep(ms: number): Promise<void>;
  writeConsole(text: string): void;
  /** Writes one record to /dev/kmsg; false while it cannot be opened. */
  writeKmsg(record: string): boolean;
  /** Replaces this process; returns only by throwing. */
  execve(file: string, argv: readonly string[], env: Readonly<Record<string, string>>): never;
  /** Runs an interactive shell on the console and resolves when it exits. */
  interactiveShell(argv: readonly string[]): Promise<void>;
  /**
   * Asks on the console with echo off; null when the console cannot be
   * read. Bytes, not a string, so that the caller can wipe them once used.
   */
  readSecret(prompt: string): Promise<Uint8Array | null>;
  /** Collects orphaned zombies (see reaper.ts); returns their pids. */
  reapOrphans(): number[];
}
