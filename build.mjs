#!/usr/bin/env node
// The builder's old name: `node build.mjs initramfs …` is `cowboot build …`,
// and the other commands are cowboot's own (bin/cowboot.mjs).

const [command, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], process.argv[1], command === 'initramfs' ? 'build' : command, ...rest].filter((a) => a !== undefined);
await import('./bin/cowboot.mjs');
