/**
 * Puts the sensor bundle into a volume of its own, which the traced container then mounts
 * read-only. A volume (not a bind mount) works with remote engines too (DOCKER_HOST=tcp/ssh).
 */
import { createContainer } from '../engine/container.js';
import type { Session } from '../engine/session.js';
import { SENSOR_DIR, type SensorBundle, bundleTar } from './bundle.js';

export async function prepareSensorVolume(session: Session, ref: string, bundle: SensorBundle): Promise<string> {
  const volume = await session.volume('sensor');
  // never started: the image is only needed because a container needs one
  const loader = await createContainer({
    image: ref,
    name: session.name('sensor-loader'),
    entrypoint: ['/.slimify-never-started'],
    cmd: [],
    mounts: [{ volume, target: SENSOR_DIR, readOnly: false }],
    labels: session.labels,
  });
  session.trackContainer(loader.id);
  try {
    await loader.putArchive(bundleTar(bundle), SENSOR_DIR);
  } finally {
    await session.forgetContainer(loader.id);
  }
  return volume;
}
