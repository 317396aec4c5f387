/**
 * Puts the sensor bundle into a volume of its own, which the traced container then mounts
 * read-only. A volume (not a bind mount) works with remote engines too (DOCKER_HOST=tcp/ssh).
 */
import type { Session } from '../engine/session.js';
import { SENSOR_DIR, type SensorBundle, bundleTar } from './bundle.js';

export async function prepareSensorVolume(session: Session, ref: string, bundle: SensorBundle): Promise<string> {
  const volume = await session.volume('sensor');
  // never started: the image is only needed because a container needs one
  const loader = await session.container({
    image: ref,
    purpose: 'sensor-loader',
    entrypoint: ['/.slimify-never-started'],
    cmd: [],
    mounts: [{ volume, target: SENSOR_DIR, readOnly: false }],
  });
  try {
    await loader.putArchive(bundleTar(bundle), SENSOR_DIR);
  } finally {
    session.discardContainer(loader.id);
  }
  return volume;
}
