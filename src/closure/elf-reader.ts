import { SlimifyError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { isElf } from './file-kind.js';

/** The file is not a well-formed ELF object (truncated, corrupt, or not ELF at all). */
export class ElfFormatError extends SlimifyError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { stage: 'closure', code: 'internal', cause: options.cause });
  }
}

export type ElfType = 'none' | 'rel' | 'exec' | 'dyn' | 'core' | 'unknown';

export interface ElfInfo {
  class: 32 | 64;
  endian: 'little' | 'big';
  /** e_machine. */
  machine: number;
  /** A readable name for `machine` ('x86-64', 'aarch64', ...), or `machine-<n>`. */
  machineName: string;
  type: ElfType;
  /** PT_INTERP: the program interpreter (dynamic loader). */
  interpreter?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  /** DT_RPATH directories, in order, `$ORIGIN` and friends unexpanded. */
  rpath: string[];
  /** DT_RUNPATH directories, in order, unexpanded. */
  runpath: string[];
  soname?: string;
  /** Runs without a loader or libraries (static executables, static-pie). */
  isStatic: boolean;
}

const MACHINES: Record<number, string> = {
  2: 'sparc',
  3: 'x86',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390',
  40: 'arm',
  43: 'sparcv9',
  62: 'x86-64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};

const TYPES: readonly ElfType[] = ['none', 'rel', 'exec', 'dyn', 'core'];

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PN_XNUM = 0xffff;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_PIE = 0x08000000n;

/** Real objects have a few dozen dynamic entries; this bounds work on hostile input. */
const MAX_DYNAMIC_ENTRIES = 65_536;
const MAX_INTERP_LENGTH = 4096;
const MAX_STRING_LENGTH = 65_536;

interface ProgramHeader {
  type: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
}

/** Reads what the dynamic loader needs to know from an ELF file's headers. */
export async function readElf(source: ByteSource): Promise<ElfInfo> {
  const reader = await ElfReader.open(source);
  return reader.info();
}

class ElfReader {
  private constructor(
    private readonly source: ByteSource,
    private readonly is64: boolean,
    private readonly little: boolean,
    private readonly header: Buffer,
  ) {}

  static async open(source: ByteSource): Promise<ElfReader> {
    const ident = await source.read(0, 16);
    if (!isElf(ident)) throw new ElfFormatError('Not an ELF file (bad magic number).');
    if (ident.length < 16) throw new ElfFormatError('Truncated ELF file: the identification bytes are incomplete.');
    const elfClass = ident[4];
    const data = ident[5];
    if (elfClass !== 1 && elfClass !== 2) throw new ElfFormatError(`Invalid ELF class ${elfClass}.`);
    if (data !== 1 && data !== 2) throw new ElfFormatError(`Invalid ELF data encoding ${data}.`);
    const is64 = elfClass === 2;
    const headerSize = is64 ? 64 : 52;
    const header = await source.read(0, headerSize);
    if (header.length < headerSize) throw new ElfFormatError('Truncated ELF file: the ELF header is incomplete.');
    return new ElfReader(source, is64, data === 1, header);
  }

  async info(): Promise<ElfInfo> {
    const machine = this.u16(this.header, 18);
    const typeCode = this.u16(this.header, 16);
    const headers = await this.programHeaders();
    const info: ElfInfo = {
      class: this.is64 ? 64 : 32,
      endian: this.little ? 'little' : 'big',
      machine,
      machineName: MACHINES[machine] ?? `machine-${machine}`,
      type: TYPES[typeCode] ?? 'unknown',
      needed: [],
      rpath: [],
      runpath: [],
      isStatic: false,
    };
    const interp = headers.find((h) => h.type === PT_INTERP);
    if (interp !== undefined) info.interpreter = await this.interpreter(interp);
    const dynamic = headers.find((h) => h.type === PT_DYNAMIC);
    let flags1 = 0n;
    if (dynamic !== undefined) flags1 = await this.dynamic(dynamic, headers, info);
    info.isStatic =
      info.interpreter === undefined &&
      info.needed.length === 0 &&
      (info.type === 'exec' || (flags1 & DF_1_PIE) !== 0n);
    return info;
  }

  private async programHeaders(): Promise<ProgramHeader[]> {
    const h = this.header;
    const phoff = this.is64 ? this.u64(h, 32) : BigInt(this.u32(h, 28));
    const phentsize = this.u16(h, this.is64 ? 54 : 42);
    let phnum = this.u16(h, this.is64 ? 56 : 44);
    if (phnum === PN_XNUM) phnum = await this.extendedPhnum();
    if (phnum === 0) return [];
    const minimum = this.is64 ? 56 : 32;
    if (phentsize < minimum) throw new ElfFormatError(`Invalid program header size ${phentsize} (at least ${minimum}).`);
    const table = await this.readExact(phoff, BigInt(phentsize) * BigInt(phnum), 'program header table');
    const out: ProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      out.push(
        this.is64
          ? { type: this.u32(table, at), offset: this.u64(table, at + 8), vaddr: this.u64(table, at + 16), filesz: this.u64(table, at + 32) }
          : {
              type: this.u32(table, at),
              offset: BigInt(this.u32(table, at + 4)),
              vaddr: BigInt(this.u32(table, at + 8)),
              filesz: BigInt(this.u32(table, at + 16)),
            },
      );
    }
    return out;
  }

  /** With 0xffff or more program headers, the real count is in section header 0's sh_info. */
  private async extendedPhnum(): Promise<number> {
    const shoff = this.is64 ? this.u64(this.header, 40) : BigInt(this.u32(this.header, 32));
    const section = await this.readExact(shoff, this.is64 ? 64n : 40n, 'section header 0');
    return this.u32(section, this.is64 ? 44 : 28);
  }

  private async interpreter(header: ProgramHeader): Promise<string> {
    if (header.filesz > BigInt(MAX_INTERP_LENGTH)) throw new ElfFormatError(`PT_INTERP is implausibly long (${header.filesz} bytes).`);
    const bytes = await this.readExact(header.offset, header.filesz, 'PT_INTERP');
    const nul = bytes.indexOf(0);
    const text = bytes.toString('utf8', 0, nul === -1 ? bytes.length : nul);
    if (text === '') throw new ElfFormatError('PT_INTERP is empty.');
    return text;
  }

  /** Fills needed/rpath/runpath/soname from PT_DYNAMIC; returns DT_FLAGS_1. */
  private async dynamic(header: ProgramHeader, headers: ProgramHeader[], info: ElfInfo): Promise<bigint> {
    const entrySize = this.is64 ? 16 : 8;
    const count = Math.min(Number(header.filesz / BigInt(entrySize)), MAX_DYNAMIC_ENTRIES);
    const table = await this.readExact(header.offset, BigInt(count * entrySize), 'PT_DYNAMIC');
    const strings: Array<{ tag: bigint; value: bigint }> = [];
    let strtab: bigint | undefined;
    let strsz: bigint | undefined;
    let flags1 = 0n;
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      const tag = this.is64 ? this.u64(table, at) : BigInt(this.u32(table, at));
      const value = this.is64 ? this.u64(table, at + 8) : BigInt(this.u32(table, at + 4));
      if (tag === 0n) break;
      if (tag === DT_STRTAB) strtab = value;
      else if (tag === DT_STRSZ) strsz = value;
      else if (tag === DT_FLAGS_1) flags1 = value;
      else if (tag === DT_NEEDED || tag === DT_SONAME || tag === DT_RPATH || tag === DT_RUNPATH) strings.push({ tag, value });
    }
    if (strings.length === 0) return flags1;
    if (strtab === undefined) throw new ElfFormatError('PT_DYNAMIC names libraries but has no DT_STRTAB.');
    const strtabOffset = this.fileOffset(strtab, headers);
    for (const { tag, value } of strings) {
      if (strsz !== undefined && value >= strsz) throw new ElfFormatError(`Dynamic string offset ${value} is past DT_STRSZ ${strsz}.`);
      const text = await this.string(strtabOffset + value);
      if (tag === DT_NEEDED) info.needed.push(text);
      else if (tag === DT_SONAME) info.soname ??= text;
      else (tag === DT_RPATH ? info.rpath : info.runpath).push(...text.split(':').filter((dir) => dir !== ''));
    }
    return flags1;
  }

  /** Maps a virtual address to a file offset through the PT_LOAD segments. */
  private fileOffset(address: bigint, headers: ProgramHeader[]): bigint {
    const loads = headers.filter((h) => h.type === PT_LOAD);
    for (const load of loads) {
      if (address >= load.vaddr && address < load.vaddr + load.filesz) return load.offset + (address - load.vaddr);
    }
    throw new ElfFormatError(`DT_STRTAB address 0x${address.toString(16)} lies in no PT_LOAD segment.`);
  }

  /** A NUL-terminated string at a file offset, read in chunks and bounded. */
  private async string(offset: bigint): Promise<string> {
    const parts: Buffer[] = [];
    let total = 0;
    let at = offset;
    while (total < MAX_STRING_LENGTH) {
      if (at >= BigInt(this.source.size)) throw new ElfFormatError('Truncated ELF file: a dynamic string runs past the end.');
      const chunk = await this.source.read(Number(at), 1024);
      if (chunk.length === 0) throw new ElfFormatError('Truncated ELF file: a dynamic string runs past the end.');
      const nul = chunk.indexOf(0);
      if (nul !== -1) {
        parts.push(chunk.subarray(0, nul));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(chunk);
      total += chunk.length;
      at += BigInt(chunk.length);
    }
    throw new ElfFormatError(`A dynamic string is longer than ${MAX_STRING_LENGTH} bytes.`);
  }

  /** Exactly `length` bytes at `offset`, or an ElfFormatError naming `what`. */
  private async readExact(offset: bigint, length: bigint, what: string): Promise<Buffer> {
    if (offset < 0n || length < 0n || offset + length > BigInt(this.source.size)) {
      throw new ElfFormatError(`Truncated or corrupt ELF file: the ${what} lies outside the file.`);
    }
    const bytes = await this.source.read(Number(offset), Number(length));
    if (bytes.length < Number(length)) throw new ElfFormatError(`Truncated ELF file: short read of the ${what}.`);
    return bytes;
  }

  private u16(buffer: Buffer, at: number): number {
    return this.little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at);
  }

  private u32(buffer: Buffer, at: number): number {
    return this.little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at);
  }

  private u64(buffer: Buffer, at: number): bigint {
    return this.little ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at);
  }
}
