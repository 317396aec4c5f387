import { describe, expect, it } from 'vitest';
import { isElf, parseShebang, sniffContent, splitShebangLine } from '../../../src/closure/file-kind.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('isElf', () => {
  it('recognises the ELF magic number', () => {
    expect(isElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]))).toBe(true);
    expect(isElf(bytes('\x7fEL'))).toBe(false);
    expect(isElf(bytes('#!/bin/sh'))).toBe(false);
  });
});

describe('parseShebang, as the kernel reads #! lines', () => {
  it('splits interpreter and single argument', () => {
    expect(parseShebang(bytes('#!/bin/sh -e\necho\n'))).toEqual({ interpreter: '/bin/sh', argument: '-e' });
  });

  it('passes everything after the interpreter as one argument', () => {
    expect(parseShebang(bytes('#!/usr/bin/env -S python3 -u\n'))).toEqual({ interpreter: '/usr/bin/env', argument: '-S python3 -u' });
  });

  it('skips leading and trailing spaces and tabs', () => {
    expect(parseShebang(bytes('#! \t/usr/bin/python3 \t\nprint()\n'))).toEqual({ interpreter: '/usr/bin/python3' });
  });

  it('keeps a carriage return, which the kernel does not strip', () => {
    expect(parseShebang(bytes('#!/bin/sh\r\n'))).toEqual({ interpreter: '/bin/sh\r' });
  });

  it('ends the line at a NUL', () => {
    expect(parseShebang(bytes('#!/bin/sh\0junk\n'))).toEqual({ interpreter: '/bin/sh' });
  });

  it('accepts a file without newline', () => {
    expect(parseShebang(bytes('#!/bin/bash'))).toEqual({ interpreter: '/bin/bash' });
  });

  it('only reads the first 256 bytes, truncating the argument', () => {
    const parsed = parseShebang(bytes(`#!/bin/sh ${'x'.repeat(400)}\n`));
    expect(parsed?.interpreter).toBe('/bin/sh');
    expect(parsed?.argument).toBe('x'.repeat(255 - '#!/bin/sh '.length));
  });

  it('refuses an interpreter name cut off by the 256-byte limit', () => {
    expect(parseShebang(bytes(`#!/${'a'.repeat(300)}\n`))).toBeUndefined();
  });

  it('refuses lines that are not #! or have no interpreter', () => {
    expect(parseShebang(bytes('# !/bin/sh\n'))).toBeUndefined();
    expect(parseShebang(bytes('#!   \n'))).toBeUndefined();
    expect(parseShebang(bytes('#!'))).toBeUndefined();
  });
});

describe('splitShebangLine', () => {
  it('splits the stored line of an FsEntry', () => {
    expect(splitShebangLine('/usr/bin/env node')).toEqual({ interpreter: '/usr/bin/env', argument: 'node' });
    expect(splitShebangLine('   ')).toBeUndefined();
  });
});

describe('sniffContent', () => {
  it('classifies ELF files, scripts and the rest', () => {
    expect(sniffContent(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toEqual({ kind: 'elf' });
    expect(sniffContent(bytes('#!/bin/sh -e\n'))).toEqual({ kind: 'script', shebang: '/bin/sh -e' });
    expect(sniffContent(bytes('hello'))).toEqual({ kind: 'other' });
    expect(sniffContent(bytes('#!\n'))).toEqual({ kind: 'other' });
  });
});
