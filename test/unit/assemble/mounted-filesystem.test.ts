import { describe, expect, it } from 'vitest';
import { mountUnavailable, walkRecords } from '../../../src/assemble/mounted-filesystem.js';
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

describe('walkRecords', () => {
  const record = (...fields: Array<string | Buffer>) => Buffer.concat(fields.flatMap((f) => [Buffer.from(f as string, typeof f === 'string' ? 'utf8' : undefined), Buffer.from([0])]));

  it('reads the five fields of each record of init --walk', () => {
    const latin1Name = Buffer.from('/caf\xe9', 'latin1');
    const listing = Buffer.concat([
      record('/bin', 'd 755 0 0 4096 1600000000 2 17 0 0', '', '', ''),
      record('/bin/ping', 'f 4755 0 0 35664 1600000000 1 18 0 0', '', '7f454c46', '0100000200200000000000000000000000000000'),
      record('/lib', 'l 777 0 0 7 1600000000 1 19 0 0', 'usr/lib', '', ''),
      record('/dev/null', 'c 666 0 0 0 1600000000 1 20 1 3', '', '', ''),
      record(latin1Name, 'f 644 1234 4321 0 1600000000 1 21 0 0', '', '', ''),
      record('/run/sock', 's 755 0 0 0 1600000000 1 22 0 0', '', '', ''),
    ]);
    const records = [...walkRecords(listing)];
    expect(records.map((r) => r.type)).toEqual(['directory', 'file', 'symlink', 'char', 'file', undefined]);
    expect(records[1]!.stats).toMatchObject({ mode: 0o4755, size: 35664, nlink: 1, ino: '18' });
    expect(records[1]!.head).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(records[1]!.capability.length).toBe(20);
    expect(records[2]!.linkname.toString()).toBe('usr/lib');
    expect(records[3]!.stats).toMatchObject({ major: 1, minor: 3 });
    expect(records[4]!.relative).toEqual(latin1Name);
    expect(records[4]!.stats).toMatchObject({ uid: 1234, gid: 4321, mode: 0o644 });
  });

  it('refuses a listing cut short', () => {
    const listing = record('/bin', 'd 755 0 0 4096 1600000000 2 17 0 0', '', '', '');
    expect(() => [...walkRecords(listing.subarray(0, listing.length - 3))]).toThrow(/cut short/);
  });
});
