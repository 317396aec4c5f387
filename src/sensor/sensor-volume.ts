/**
 * Puts the sensor bundle into a volume of its own, which traced containers mount read-only, and
 * makes a second volume for their trace files, the one mount they write to. Volumes (not bind
 * mounts) work with remote engines too (DOCKER_HOST=tcp/ssh). Both are filled by one archive
 * upload into a container that is never started.
 */
import type { Session } from '../engine/session.js';
import { SENSOR_DIR, type SensorBundle, TRACE_DIR, bundleTar } from './bundle.js';

export interface SensorVolumes {
  /** the bundle, mounted read-only at SENSOR_DIR */
  sensor: string;
  /** the trace files, mounted read-write at TRACE_DIR; runs of one build share it (see tracer-command.ts) */
  traces: string;
}

export async function prepareSensorVolumes(session: Session, ref: string, bundle: SensorBundle): Promise<SensorVolumes> {
  const [sensor, traces] = await Promise.all([session.volume('sensor'), session.volume('traces')]);
  // never started: the image is only needed because a container needs one
  const loader = await session.container({
    image: ref,
    purpose: 'sensor-loader',
    entrypoint: ['/.slimify-never-started'],
    cmd: [],
    mounts: [
      { volume: sensor, target: SENSOR_DIR, readOnly: false },
      { volume: traces, target: TRACE_DIR, readOnly: false },
    ],
  });
  try {
    await loader.putArchive(bundleTar(bundle), '/');
  } finally {
    session.discardContainer(loader.id);
  }
  return { sensor, traces };
}
