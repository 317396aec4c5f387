/**
 * Findings only the built image shows (`slimify lint --image`): caches left in layers and files
 * deleted in a later layer, from the xray report, placed on the Dockerfile line that made the
 * layer when the image history lets us tell which one it is.
 */
import { formatBytes } from '../util/log.js';
import type { XrayReport } from '../xray/xray-report.js';
import type { DockerfileModel } from './dockerfile-model.js';
import type { Finding } from './finding.js';

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The Dockerfile line of the instruction that made each layer, or the final FROM when unknown. */
export function layerLines(report: XrayReport, model: DockerfileModel): number[] {
  const final = model.stages[model.stages.length - 1];
  const fallback = final?.line ?? 1;
  const candidates = final?.instructions ?? [];
  let cursor = 0;
  return report.layers.map((layer) => {
    const createdBy = squash(layer.createdBy);
    for (let i = cursor; i < candidates.length; i++) {
      const instruction = candidates[i]!;
      const matches =
        (instruction.keyword === 'RUN' && instruction.shell !== undefined && createdBy === `RUN ${squash(instruction.shell)}`) ||
        ((instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && createdBy.startsWith(instruction.keyword) && createdBy.endsWith(` in ${instruction.args[instruction.args.length - 1]}`));
      if (matches) {
        cursor = i + 1;
        return instruction.line;
      }
    }
    return fallback;
  });
}

export function imageFindings(report: XrayReport, model: DockerfileModel, file: string): Finding[] {
  const lines = layerLines(report, model);
  const findings: Finding[] = [];
  for (const cache of report.caches) {
    const layer = cache.layers[cache.layers.length - 1] ?? 0;
    findings.push({
      rule: 'SL2001',
      severity: 'warning',
      file,
      line: lines[layer] ?? 1,
      message: `the image ${report.image.ref} keeps ${cache.label}: ${formatBytes(cache.bytes)} in ${cache.files} files (layer ${cache.layers.join(', ')})`,
      fix: cache.fix,
    });
  }
  const byLayer = new Map<number, { bytes: number; files: number; from: Set<number>; example: string }>();
  for (const hidden of report.deletedLater) {
    const entry = byLayer.get(hidden.hiddenIn) ?? { bytes: 0, files: 0, from: new Set<number>(), example: hidden.path };
    entry.bytes += hidden.size;
    entry.files++;
    entry.from.add(hidden.addedIn);
    byLayer.set(hidden.hiddenIn, entry);
  }
  for (const [layer, entry] of byLayer) {
    const origins = [...entry.from].map((l) => `layer ${l} (line ${lines[l] ?? '?'})`).join(', ');
    findings.push({
      rule: 'SL2002',
      severity: 'warning',
      file,
      line: lines[layer] ?? 1,
      message: `layer ${layer} deletes ${formatBytes(entry.bytes)} in ${entry.files} files (e.g. ${entry.example}) that ${origins} added: the bytes stay in the image`,
      fix: 'delete files in the same RUN that creates them, or build them in an earlier stage and COPY --from only what is needed',
    });
  }
  return findings;
}
