import type { Stage } from '../context';
import { BootError } from '../errors';
import { exec } from '../exec';
import { DETECT_BYTES, detectFsType, fsModule } from '../fs-detect';
import { mountOnce } from '../mount';
import { RO_DIR } from '../paths';

export const mountRoot: Stage = {
  name: 'root',
  async run(ctx) {
    const { root, rootdelay, rootfstype, rootflags } = ctx.config;
    if (root === null) {
      throw new BootError('no root device: root= is not on the kernel command line nor in the image config', {
        hint: 'add root=/dev/... to the kernel command line',
      });
    }
    ctx.log.info(`waiting up to ${rootdelay} s for ${root}`);
    if (!(await ctx.sys.waitForPath(root, rootdelay * 1000))) {
      const seen = ctx.sys.readdir('/sys/class/block');
      throw new BootError(`root device ${root} did not appear within ${rootdelay} s`, {
        hint: `block devices seen: ${seen.length > 0 ? seen.join(' ') : 'none'}; a missing driver can be added with modules=`,
      });
    }
    const detected = rootfstype ?? detectFsType(ctx.sys.readHead(root, DETECT_BYTES));
    if (detected === null) {
      throw new BootError(`no known filesystem on ${root}`, { hint: 'give its type with rootfstype=' });
    }
    ctx.state.rootFsType = detected;
    await exec(ctx, ['modprobe', fsModule(detected)], `the ${detected} driver is needed for ${root}`);
    const options = ['ro', ...(rootflags ? [rootflags] : [])].join(',');
    await mountOnce(ctx, { type: detected, source: root, target: RO_DIR, options });
    ctx.log.info(`${root} (${detected}) mounted read-only on ${RO_DIR}`);
  },
};
