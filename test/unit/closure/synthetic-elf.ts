/**
 * Builds minimal but well-formed ELF files for the layouts the host cannot compile (big-endian,
 * other machines): an ELF header, PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC and .dynstr.
 */
export interface SyntheticElf {
  class: 32 | 64;
  endian: 'little' | 'big';
  machine: number;
  type?: number;
  interpreter?: string;
  needed?: string[];
  runpath?: string;
  soname?: string;
}

const BASE = 0x10000;

export function buildElf(spec: SyntheticElf): Buffer {
  const is64 = spec.class === 64;
  const le = spec.endian === 'little';
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const phnum = spec.interpreter === undefined ? 2 : 3;

  const strings: string[] = [''];
  const offsetOf = (text: string) => {
    const at = strings.join('\0').length + 1;
    strings.push(text);
    return at;
  };
  const dyn: Array<[number, number]> = [];
  for (const name of spec.needed ?? []) dyn.push([1, offsetOf(name)]);
  if (spec.soname !== undefined) dyn.push([14, offsetOf(spec.soname)]);
  if (spec.runpath !== undefined) dyn.push([29, offsetOf(spec.runpath)]);
  const dynstr = Buffer.from(strings.join('\0') + '\0');

  const interp = spec.interpreter === undefined ? Buffer.alloc(0) : Buffer.from(spec.interpreter + '\0');
  const interpOff = ehsize + phnum * phentsize;
  const strOff = interpOff + interp.length;
  const dynOff = align(strOff + dynstr.length, 8);
  const dynEntry = is64 ? 16 : 8;
  dyn.push([5, BASE + strOff], [10, dynstr.length], [0, 0]);
  const total = dynOff + dyn.length * dynEntry;
  const out = Buffer.alloc(total);

  const w16 = (at: number, v: number) => (le ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const w32 = (at: number, v: number) => (le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  const wAddr = (at: number, v: number) =>
    is64 ? (le ? out.writeBigUInt64LE(BigInt(v), at) : out.writeBigUInt64BE(BigInt(v), at)) : w32(at, v);

  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1]);
  w16(16, spec.type ?? 3);
  w16(18, spec.machine);
  w32(20, 1);
  wAddr(is64 ? 32 : 28, ehsize);
  w16(is64 ? 52 : 40, ehsize);
  w16(is64 ? 54 : 42, phentsize);
  w16(is64 ? 56 : 44, phnum);

  const phdr = (i: number, type: number, offset: number, size: number) => {
    const at = ehsize + i * phentsize;
    w32(at, type);
    if (is64) {
      wAddr(at + 8, offset);
      wAddr(at + 16, BASE + offset);
      wAddr(at + 32, size);
      wAddr(at + 40, size);
    } else {
      w32(at + 4, offset);
      w32(at + 8, BASE + offset);
      w32(at + 16, size);
      w32(at + 20, size);
    }
  };
  phdr(0, 1, 0, total);
  phdr(1, 2, dynOff, dyn.length * dynEntry);
  if (spec.interpreter !== undefined) phdr(2, 3, interpOff, interp.length);

  interp.copy(out, interpOff);
  dynstr.copy(out, strOff);
  dyn.forEach(([tag, value], i) => {
    wAddr(dynOff + i * dynEntry, tag);
    wAddr(dynOff + i * dynEntry + (is64 ? 8 : 4), value);
  });
  return out;
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
