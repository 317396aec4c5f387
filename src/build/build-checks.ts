/**
 * Checks before any work starts: the input image exists (or is pulled when asked), was not made
 * by slimify already, and the output tag neither is the input nor exists (unless --force).
 */
import { type ImageInfo, inspectImage, pullImage, requireImage } from '../engine/engine.js';
import { SlimifyError } from '../errors.js';
import { LABEL_VERSION } from '../assemble/image-archive.js';
import { info } from '../util/log.js';

export async function inspectOrPull(options: { image: string; pull: boolean }): Promise<ImageInfo> {
  const found = await inspectImage(options.image);
  if (found) return found;
  if (options.pull) {
    info(`pulling ${options.image}`);
    await pullImage(options.image);
  }
  return requireImage(options.image);
}

/**
 * Checks that the slim image may take `outputTag`. Returns the id of the image that holds the tag
 * now, when --force allows replacing it: it is removed once the new image has taken the tag (a
 * failed build leaves it in place).
 */
export async function checkTarget(options: { image: string; force: boolean }, image: ImageInfo, outputTag: string): Promise<string | undefined> {
  if (image.config.Labels?.[LABEL_VERSION]) {
    throw new SlimifyError(`image ${options.image} was already made by slimify ${image.config.Labels[LABEL_VERSION]} (from ${image.config.Labels['slimify.source.image'] ?? 'another image'}); slim the original instead`, {
      code: 'usage',
      image: options.image,
    });
  }
  const existing = await inspectImage(outputTag);
  if (existing?.id === image.id) {
    throw new SlimifyError(`the output tag ${outputTag} is the input image itself: choose another --tag (slimify never changes the original)`, { code: 'usage', image: options.image });
  }
  if (existing && !options.force) {
    throw new SlimifyError(`the output tag ${outputTag} already exists: pass --force to replace it, or choose another --tag`, { code: 'output-exists', image: options.image });
  }
  return existing?.id;
}

