import { describe, expect, it } from 'vitest';
import { major, minor, mountUnavailable } from '../../../src/assemble/mounted-filesystem.js';
import type { ImageInfo } from '../../../src/engine/engine.js';

const image = (driver?: string) => ({ raw: driver === undefined ? {} : { GraphDriver: { Name: driver } } }) as unknown as ImageInfo;

describe('mountUnavailable', () => {
  it('allows root with a local engine that stores images with overlay2 or fuse-overlayfs', () => {
    expect(mountUnavailable(image('overlay2'), { uid: 0 })).toBeUndefined();
    expect(mountUnavailable(image('fuse-overlayfs'), { uid: 0, dockerHost: 'unix:///run/docker.sock' })).toBeUndefined();
  });

  it('says why not, for each reason', () => {
    expect(mountUnavailable(image('overlay2'), { uid: 0, dockerHost: 'tcp://10.0.0.2:2376' })).toMatch(/engine is at tcp:\/\/10.0.0.2:2376/);
    expect(mountUnavailable(image('overlay2'), { uid: 1000 })).toMatch(/not running as root/);
    expect(mountUnavailable(image('overlay2'), { uid: 0, userns: true })).toMatch(/remaps user ids/);
    expect(mountUnavailable(image('btrfs'), { uid: 0 })).toMatch(/stores images with btrfs/);
    expect(mountUnavailable(image(), { uid: 0 })).toMatch(/unknown storage driver/);
  });
});

describe('major and minor', () => {
  it("split a dev_t as glibc's gnu_dev_major/minor do", () => {
    // /dev/null 1:3, /dev/loop0 7:0, and a large minor that spills into the high bits (259:65536)
    expect([major(0x103), minor(0x103)]).toEqual([1, 3]);
    expect([major(0x700), minor(0x700)]).toEqual([7, 0]);
    const dev = (259 & 0xfff) * 256 + (65536 & 0xff) + (65536 >> 8) * 2 ** 20;
    expect([major(dev), minor(dev)]).toEqual([259, 65536]);
  });
});
