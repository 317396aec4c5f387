import { describe, expect, it } from 'vitest';
import { mountOptionsOf } from '../../../src/sensor/sensor-mounts.js';

// lines as the kernel writes them: id parent major:minor root mount-point options [optional] - type source super-options
const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '25 22 0:23 / /dev/shm rw,nosuid,nodev shared:2 - tmpfs tmpfs rw',
  '26 22 0:24 / /tmp rw,nosuid,nodev,noexec,relatime shared:3 - tmpfs tmpfs rw',
  '27 26 0:25 / /tmp/exec\\040ok rw,relatime shared:4 - tmpfs tmpfs rw',
  '28 22 0:26 / /tmpfoo ro,relatime - tmpfs tmpfs rw',
].join('\n');

describe('mountOptionsOf', () => {
  it('takes the options of the deepest mount holding the path', () => {
    expect(mountOptionsOf('/tmp/slimify-abc-1-sensor-x', MOUNTINFO)).toContain('noexec');
    expect(mountOptionsOf('/tmp', MOUNTINFO)).toContain('noexec');
    expect(mountOptionsOf('/dev/shm/x', MOUNTINFO)).toEqual(['rw', 'nosuid', 'nodev']);
    expect(mountOptionsOf('/var/tmp/x', MOUNTINFO)).toEqual(['rw', 'relatime']);
  });

  it('matches whole path components and decodes escaped spaces', () => {
    expect(mountOptionsOf('/tmpfoo/x', MOUNTINFO)).toEqual(['ro', 'relatime']);
    expect(mountOptionsOf('/tmp/exec ok/x', MOUNTINFO)).not.toContain('noexec');
  });

  it('a later mount over the same point wins (it hides the earlier one)', () => {
    const over = `${MOUNTINFO}\n29 26 0:27 / /tmp rw,relatime - tmpfs tmpfs rw`;
    expect(mountOptionsOf('/tmp/x', over)).not.toContain('noexec');
  });

  it('knows nothing without mountinfo', () => {
    expect(mountOptionsOf('/tmp/x', '')).toEqual([]);
  });
});
