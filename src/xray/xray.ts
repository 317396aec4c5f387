/**
 * `slimify xray`: where an image's bytes go. Reads the image as a docker-save stream (from the
 * engine or a file) and builds the report; the CI verdict is a separate, pure step.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { requireImage, saveImage } from '../engine/engine.js';
import { SlimifyError } from '../errors.js';
import { Progress, formatBytes } from '../util/log.js';
import { readImageArchive } from './image-archive.js';
import { buildReport, type ReportOptions, type XrayReport } from './xray-report.js';

function counting(progress: Progress): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      progress.update(formatBytes(bytes));
      callback(null, chunk);
    },
  });
}

async function xrayStream(ref: string, source: Readable, progress: Progress, options: ReportOptions): Promise<XrayReport> {
  const counter = counting(progress);
  source.on('error', (error) => counter.destroy(error));
  const archive = await readImageArchive(source.pipe(counter));
  const report = buildReport(ref, archive, options);
  progress.done(`${report.layers.length} layers, ${formatBytes(report.dive.sizeBytes)}`);
  return report;
}

/** X-rays an image held by the engine. */
export async function xrayImage(ref: string, options: ReportOptions = {}): Promise<XrayReport> {
  await requireImage(ref);
  const progress = new Progress(`xray: reading ${ref}`);
  return xrayStream(ref, await saveImage(ref), progress, options);
}

/** X-rays a `docker save` tarball (classic or OCI layout). */
export async function xrayArchive(file: string, options: ReportOptions = {}): Promise<XrayReport> {
  try {
    await stat(file);
  } catch (error) {
    throw new SlimifyError(`cannot read the archive ${file}: ${(error as Error).message}`, { code: 'usage', stage: 'xray', cause: error });
  }
  return xrayStream(file, createReadStream(file), new Progress(`xray: reading ${file}`), options);
}
