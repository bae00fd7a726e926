// npm run bench:luks-memory: the least RAM that boots a root in a LUKS2
// container whose key slot is what cryptsetup makes by default on a machine
// with 2 GiB or more: argon2id asking for 1 GiB (4 iterations, 4 threads).
// Each size boots once, the passphrase typed on the console; the result is
// what the boot ended in (opened, refused with cowboot's message, or the
// kernel's OOM killer), with the time argon2 took where it ran.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGuestDisk, REPORTING_INIT } from './vm/guest';
import { buildImage } from './vm/image';
import { PROJECT_DIR } from './vm/project';
import { boot } from './vm/qemu';
import { encryptedCopy } from './vm/volume-disks';

const UUID = '5b6c7d8e-9fa0-4b1c-8d2e-3f4a5b6c7d8e';
const PASSPHRASE = 'bench';

/** Seconds on the kernel's clock of the first console line matching `pattern`. */
function at(console: string, pattern: RegExp): number | null {
  const line = console.split('\n').find((l) => pattern.test(l));
  const m = line && /^\[\s*([\d.]+)\]/.exec(line);
  return m ? Number(m[1]) : null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2048,1536,1280,1152,1024' } } });
  const sizes = values.sizes.split(',').map(Number);
  const image = buildImage('bench-luks', ['--volumes', 'luks']);
  const root = makeGuestDisk('bench-luks-root', { init: REPORTING_INIT }, 'ext4', UUID);
  const disk = encryptedCopy(root, { uuid: '6c7d8e9f-a0b1-4c2d-9e3f-4a5b6c7d8e9f', passphrase: PASSPHRASE, kdf: ['--pbkdf', 'argon2id', '--pbkdf-memory', String(1024 * 1024), '--pbkdf-parallel', '4', '--pbkdf-force-iterations', '4'] }, 'argon2');
  const rows: string[] = [];
  const results: Record<string, unknown>[] = [];
  for (const mib of sizes) {
    const result = await boot({
      name: `bench-luks-${mib}`,
      initrd: image,
      memoryMiB: mib,
      drives: [`file=${disk},if=virtio,format=raw`],
      append: `console=ttyS0 root=UUID=${UUID} overlay=overlayfs`,
      // A refusal ends in the rescue shell, where the passphrase is a command not found: powered off there, rather than at the timeout.
      dialogue: [
        { waitFor: /Passphrase for \S+ \(LUKS UUID=[^)]+\): |cowboot rescue shell[\s\S]*?# /, send: `${PASSPHRASE}\n` },
        { waitFor: /not found[\s\S]*?# /, send: 'poweroff -f\n' },
      ],
      timeoutMs: 600_000,
    });
    const asked = at(result.console, /LUKS containers|Passphrase for/);
    const opened = at(result.console, /opened read-only as \/dev\/mapper/);
    const free = /its key slots ask argon2 for up to (.+?) of memory; (.+?) is free|asks argon2 for (.+?) of memory to try a passphrase, and only (.+?) is free/.exec(result.console);
    const outcome = opened !== null ? 'opened' : /Out of memory|oom-kill/.test(result.console) ? 'killed by the OOM killer' : free?.[3] ? 'refused: not enough free memory' : result.timedOut ? 'timed out' : 'failed';
    const seconds = opened !== null && asked !== null ? (opened - asked).toFixed(1) : '—';
    const freeText = free?.[2] ?? free?.[4] ?? '?';
    rows.push(`| ${mib} MiB | ${freeText} | ${outcome} | ${seconds} |`);
    results.push({ mib, outcome, free: freeText, seconds, booted: result.console.includes('GUEST done') });
    process.stderr.write(`${mib} MiB: ${outcome} (${freeText} free; ${seconds} s from the prompt to the opened container)\n`);
  }
  const table = ['| RAM | free when asked | outcome | seconds to open (TCG) |', '|---|---|---|---|', ...rows].join('\n');
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'luks-memory.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'luks-memory.md'), `${table}\n\nOne boot each, QEMU TCG, 2 vCPUs; LUKS2, argon2id at 1 GiB, 4 iterations, 4 threads.\n`);
  process.stdout.write(`${table}\n`);
}

await main();
