/** What reading /sys needs: the System interface at boot, node:fs in the builder. */
export interface SysfsReader {
  /** The names in a folder; empty when it cannot be read. */
  readdir(path: string): string[];
  readText(path: string): string;
}

/** Every modalias the kernel lists now; the buses are what udev's coldplug walks too. */
export function readModaliases(sysfs: SysfsReader): string[] {
  const found: string[] = [];
  for (const bus of sysfs.readdir('/sys/bus')) {
    for (const device of sysfs.readdir(`/sys/bus/${bus}/devices`)) {
      try {
        const alias = sysfs.readText(`/sys/bus/${bus}/devices/${device}/modalias`).trim();
        if (alias) found.push(alias);
      } catch {
        // Not every device has one.
      }
    }
  }
  return found;
}
