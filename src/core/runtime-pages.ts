import { describeRuntimePages, runtimePages } from '../formats/runtime-pages';
import { HOT_PAGES, RUNTIME_DIR } from '../layout/image-paths';
import type { System } from '../sys/system';

const PATHS = { hotPages: HOT_PAGES, runtimeDir: RUNTIME_DIR };

/** Where Node's pages came from by the handoff (formats/runtime-pages.ts), `proc` being where /proc is mounted then; a runtime without smaps (a fake system) has no line. */
export function runtimePagesLine(sys: System, proc: string): string | null {
  try {
    return describeRuntimePages('at the handoff', runtimePages(sys.readText(`${proc}/self/smaps`), PATHS), PATHS);
  } catch {
    return null;
  }
}
