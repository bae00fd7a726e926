import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNTIMES = ['node', 'bun'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Where the image keeps the runtime binary; the bundle's shebang points at it. */
export function runtimePath(runtime: Runtime): string {
  return `/usr/bin/${runtime}`;
}

// No .js-less name and no .node suffix: Node would load a *.node file as a
// native addon. The kernel runs /init through the shebang.
// esbuild is imported here, when a bundle is made from the sources, so that
// an installed copy (which carries its bundle prebuilt) runs without it.
export async function bundleInit(projectDir: string, runtime: Runtime = 'node'): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(projectDir, 'dist', 'init.js');
  await build({
    entryPoints: [join(projectDir, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    banner: { js: `#!${runtimePath(runtime)}` },
    legalComments: 'none',
    logLevel: 'warning',
  });
  // The project is "type": "module"; the bundle is CommonJS, as /init in the
  // image (with no package.json) is read anyway.
  writeFileSync(join(projectDir, 'dist', 'package.json'), '{ "type": "commonjs" }\n');
  return outfile;
}
