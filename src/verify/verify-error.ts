/**
 * The error of a failed verification: what differed, the slim container's last output, what
 * the slim image misses and the flags that would add it. The report travels as its cause.
 */
import { SlimifyError } from '../errors.js';
import { type BuildReport, describeMissing } from '../report/build-report.js';
import { type MissingPath, includeFlags } from './missing-paths.js';
import type { Verification } from './verify-slim.js';

export function verifyFailed(report: BuildReport, verification: Verification, options: { image: string; autoInclude: boolean }, outputTag: string, missing: MissingPath[]): SlimifyError {
  const rounds = report.repair?.rounds.length ?? 0;
  const tried = rounds ? ` after ${rounds} auto-include round${rounds > 1 ? 's' : ''}` : '';
  return new SlimifyError(`the slim image ${outputTag} does not behave like ${options.image}${tried}; it is kept under ${outputTag} for inspection`, {
    code: 'verify-failed',
    stage: 'verify',
    image: options.image,
    details: [
      ...verification.comparisons.filter((c) => !c.same).map((c) => `${c.name}: ${c.why}`),
      ...(verification.container.original !== verification.container.slim ? [`container: original ${verification.container.original}, slim ${verification.container.slim}`] : []),
      ...(verification.logs ?? []),
      ...missing.slice(0, 30).map(describeMissing),
      ...(missing.length > 30 ? [`... and ${missing.length - 30} more (see --report)`] : []),
      ...(missing.length
        ? [`to keep them, add: ${includeFlags(missing)}`, ...(options.autoInclude ? [] : ['or let slimify add them itself: --auto-include'])]
        : ['the traced re-run of the slim image found no missing path that exists in the original (the difference is not a missing file)']),
    ],
    cause: report,
  });
}

