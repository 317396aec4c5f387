import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferByteSource, fileByteSource, type ByteSource } from '../../../src/closure/byte-source.js';
import { ElfFormatError, readElf } from '../../../src/closure/elf-reader.js';
import { compileSamples, type ElfSamples } from './elf-samples.js';
import { buildElf } from './synthetic-elf.js';

let samples: ElfSamples;
beforeAll(() => {
  samples = compileSamples();
});
afterAll(() => samples?.cleanup());

async function readFile(path: string) {
  await using source = await fileByteSource(path);
  return await readElf(source);
}

describe('readElf on binaries compiled here', () => {
  it('reads the interpreter and DT_NEEDED of a dynamic executable', async () => {
    const info = await readFile(samples.hello);
    expect(info).toMatchObject({ class: 64, endian: 'little', machine: 62, machineName: 'x86-64', isStatic: false });
    expect(info.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(info.needed).toEqual(['libc.so.6']);
    expect(info.rpath).toEqual([]);
    expect(info.runpath).toEqual([]);
  });

  it('reads DT_RPATH with $ORIGIN unexpanded', async () => {
    const info = await readFile(samples.appRpath);
    expect(info.needed).toEqual(['libgreet.so.1', 'libc.so.6']);
    expect(info.rpath).toEqual(['$ORIGIN/../lib']);
    expect(info.runpath).toEqual([]);
  });

  it('reads DT_RUNPATH from --enable-new-dtags', async () => {
    const info = await readFile(samples.appRunpath);
    expect(info.runpath).toEqual(['$ORIGIN/../lib']);
    expect(info.rpath).toEqual([]);
  });

  it('reads the soname of a shared library, which has no interpreter', async () => {
    const info = await readFile(samples.libgreet);
    expect(info).toMatchObject({ type: 'dyn', soname: 'libgreet.so.1', isStatic: false });
    expect(info.interpreter).toBeUndefined();
  });

  it('calls a -static executable static', async () => {
    const info = await readFile(samples.staticExe);
    expect(info).toMatchObject({ type: 'exec', isStatic: true, needed: [] });
    expect(info.interpreter).toBeUndefined();
  });

  it('reads a 32-bit library when gcc -m32 can link here', async (context) => {
    if (samples.lib32 === undefined) context.skip();
    const info = await readFile(samples.lib32!);
    expect(info).toMatchObject({ class: 32, endian: 'little', machine: 3, machineName: 'x86', soname: 'libf32.so.1' });
  });

  it('reads the same from a Buffer as from the file', async () => {
    const fromBuffer = await readElf(bufferByteSource(readFileSync(samples.appRunpath)));
    expect(fromBuffer).toEqual(await readFile(samples.appRunpath));
  });
});

describe('readElf on host binaries', () => {
  it('reads /usr/bin/ls', async () => {
    const info = await readFile('/usr/bin/ls');
    expect(info.interpreter).toMatch(/^\/lib64\/ld-linux-x86-64\.so\.2$/);
    expect(info.needed).toContain('libc.so.6');
  });

  it('reads libc.so.6: a library that also has an interpreter', async () => {
    const info = await readFile('/lib/x86_64-linux-gnu/libc.so.6');
    expect(info.soname).toBe('libc.so.6');
    expect(info.needed).toEqual(['ld-linux-x86-64.so.2']);
    expect(info.isStatic).toBe(false);
  });
});

describe('readElf on synthetic layouts', () => {
  it('reads a big-endian 64-bit object', async () => {
    const elf = buildElf({ class: 64, endian: 'big', machine: 22, interpreter: '/lib/ld64.so.1', needed: ['libc.so.6'], runpath: '/opt/lib:$ORIGIN' });
    const info = await readElf(bufferByteSource(elf));
    expect(info).toMatchObject({ class: 64, endian: 'big', machine: 22, machineName: 's390', interpreter: '/lib/ld64.so.1' });
    expect(info.needed).toEqual(['libc.so.6']);
    expect(info.runpath).toEqual(['/opt/lib', '$ORIGIN']);
  });

  it('reads a big-endian 32-bit object', async () => {
    const elf = buildElf({ class: 32, endian: 'big', machine: 8, needed: ['libm.so.6', 'libc.so.6'], soname: 'libx.so.2' });
    const info = await readElf(bufferByteSource(elf));
    expect(info).toMatchObject({ class: 32, endian: 'big', machineName: 'mips', soname: 'libx.so.2', needed: ['libm.so.6', 'libc.so.6'] });
  });

  it('names unknown machines by number', async () => {
    const info = await readElf(bufferByteSource(buildElf({ class: 64, endian: 'little', machine: 9999 })));
    expect(info.machineName).toBe('machine-9999');
  });
});

describe('readElf on broken input', () => {
  it('rejects a file that is not ELF', async () => {
    await expect(readElf(bufferByteSource(Buffer.from('#!/bin/sh\necho hi\n')))).rejects.toThrow(ElfFormatError);
  });

  it('rejects a truncated ELF file', async () => {
    const whole = readFileSync(samples.hello);
    for (const length of [10, 40, 100, 1000]) {
      await expect(readElf(bufferByteSource(whole.subarray(0, length)))).rejects.toThrow(ElfFormatError);
    }
  });

  it('rejects a program header table pointing past the end', async () => {
    const broken = Buffer.from(readFileSync(samples.hello));
    broken.writeBigUInt64LE(0xffff_ffff_ffffn, 32);
    await expect(readElf(bufferByteSource(broken))).rejects.toThrow(/program header table/);
  });

  it('rejects an invalid class byte', async () => {
    const broken = Buffer.from(readFileSync(samples.hello));
    broken[4] = 7;
    await expect(readElf(bufferByteSource(broken))).rejects.toThrow(ElfFormatError);
  });

  it('rejects a DT_STRTAB outside every PT_LOAD', async () => {
    const elf = buildElf({ class: 64, endian: 'little', machine: 62, needed: ['libc.so.6'] });
    const patched = Buffer.from(elf);
    // The DT_STRTAB entry is third from the end: [DT_STRTAB, DT_STRSZ, DT_NULL].
    patched.writeBigUInt64LE(0x7fff_0000n, patched.length - 3 * 16 + 8);
    await expect(readElf(bufferByteSource(patched))).rejects.toThrow(/no PT_LOAD/);
  });

  it('does not allocate what hostile sizes ask for', async () => {
    const reads: number[] = [];
    const elf = buildElf({ class: 64, endian: 'little', machine: 62, interpreter: '/lib/ld.so', needed: ['libc.so.6'] });
    const patched = Buffer.from(elf);
    // PT_DYNAMIC (the second program header) claims a filesz of 2^40 bytes.
    patched.writeBigUInt64LE(1n << 40n, 64 + 56 + 32);
    const inner = bufferByteSource(patched);
    const source: ByteSource = { size: inner.size, read: (offset, length) => (reads.push(length), inner.read(offset, length)) };
    await expect(readElf(source)).rejects.toThrow(ElfFormatError);
    expect(Math.max(...reads)).toBeLessThanOrEqual(patched.length);
  });

  it('stops at a string without a terminator instead of looping', async () => {
    const elf = buildElf({ class: 64, endian: 'little', machine: 62, needed: ['libc.so.6'] });
    const patched = Buffer.from(elf);
    // Dynamic entries, last four: DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_NULL. Point DT_NEEDED at the
    // file's last byte, made non-NUL, and let DT_STRSZ allow it.
    const entry = (fromEnd: number) => patched.length - fromEnd * 16 + 8;
    const strtabOffset = Number(patched.readBigUInt64LE(entry(3))) - 0x10000;
    patched.fill(0x41, patched.length - 1);
    patched.writeBigUInt64LE(BigInt(patched.length), entry(2));
    patched.writeBigUInt64LE(BigInt(patched.length - 1 - strtabOffset), entry(4));
    await expect(readElf(bufferByteSource(patched))).rejects.toThrow(/past the end/);
  });
});
